"""``rig analyze``: sway measures of COP trace files, as a table or as JSON lines."""
from __future__ import annotations

import json
import math

import click

from rig.errors import AnalysisError, RigError


def _foot(value: str | None):
    if not value:
        return None
    from rig.engine.sway import Foot
    try:
        length, width, cx, cy = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("expected LENGTH,WIDTH,CENTRE_X,CENTRE_Y in mm, "
                                 f"e.g. 250,95,-100,0; got {value!r}", param_hint="--foot")
    return Foot(length, width, cx, cy)


def analyse_file(path: str, filter_name: str, foot=None, body_weight_n=None,
                 landing=False) -> dict:
    """Read, preprocess and measure one trace file; returns the measures and the processing."""
    from rig.engine.preprocess import PreprocessOptions, preprocess
    from rig.engine.sway import SETTINGS, compute_measures
    from rig.io.traces import read_trace

    raw = read_trace(path)
    try:
        trace = preprocess(raw.t_s, raw.cop_x_mm, raw.cop_y_mm, raw.fz_n,
                           PreprocessOptions.named(filter_name))
        measures = compute_measures(trace, foot=foot, body_weight_n=body_weight_n,
                                    landing_trial=landing)
    except AnalysisError as e:
        raise AnalysisError(f"{path}: {e}") from None
    return {"path": path, "format": raw.format, "filter": filter_name, "measures": measures,
            "processing": trace.processing, "settings": SETTINGS}


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None                       # JSON has no NaN: undefined measures are null
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return v


def _json_line(result: dict) -> str:
    m = dict(result["measures"])
    m["n_samples"] = int(m["n_samples"])
    if "touchdowns" in m:
        m["touchdowns"] = int(m["touchdowns"])
    obj = {"path": result["path"], "format": result["format"], "filter": result["filter"], **m,
           "processing": result["processing"], "settings": result["settings"]}
    return json.dumps(_json_value(obj), allow_nan=False)


def _describe_processing(p: dict) -> str:
    if p["preset"] == "none":
        return f"as given: no resampling, filtering or trimming; fs {p['fs_hz']:.6g} Hz from timestamps"
    parts = []
    if p.get("resample"):
        parts.append(f"resampled to {p['resample']['fs_hz']:.6g} Hz (window average)")
    if p.get("lowpass"):
        lp = p["lowpass"]
        parts.append(f"Butterworth low-pass {lp['cutoff_hz']:g} Hz, order {lp['design_order']} "
                     f"forward-backward (effective {lp['effective_order']}, zero lag)")
    trimmed = p.get("trimmed_s") or [0, 0]
    if any(trimmed):
        parts.append(f"trimmed {trimmed[0]:.2f} s / {trimmed[1]:.2f} s without COP")
    parts.append(f"{p['n_gaps']} timestamp gap(s)")
    return "; ".join(parts)


def _table(result: dict) -> str:
    from rig.engine.sway import MEASURES
    lines = [f"{result['path']}", f"  processing: {_describe_processing(result['processing'])}"]
    width = max(len(k) for k in result["measures"])
    for key, val in result["measures"].items():
        meta = MEASURES.get(key)
        unit = meta.unit if meta else ""
        unit = "" if unit == "1" else unit
        label = meta.label if meta else ""
        shown = "n/a" if isinstance(val, float) and math.isnan(val) else f"{val:.6g}"
        lines.append(f"  {key:<{width}}  {shown:>12} {unit:<7} {label}")
    return "\n".join(lines)


@click.command("analyze")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.option("--filter", "filter_name", type=click.Choice(["none", "default"]),
              default="default", show_default=True,
              help="default: trim samples without COP at the ends, resample to a uniform grid, "
                   "10 Hz zero-lag Butterworth, mean removal. none: the trace exactly as given.")
@click.option("--foot", metavar="L,W,CX,CY",
              help="Stance foot length, width and centre on the board (mm) for time-to-boundary.")
@click.option("--body-weight-n", type=float,
              help="Body weight (N) for touch-down detection (needs an fz_n column).")
@click.option("--landing", is_flag=True,
              help="Hop-landing trial: vertical stability index and time to stabilisation "
                   "(needs --body-weight-n, fz_n and at least 500 Hz).")
def analyze(paths, as_json, filter_name, foot, body_weight_n, landing):
    """Compute sway measures from COP trace files.

    A trace file is CSV with a header containing t_s,cop_x_mm,cop_y_mm (optionally fz_n;
    '#' lines and extra columns allowed; empty COP = nobody on the board), e.g. from
    `rig stream` with a calibration. Posture Data Set grf files are read too.
    """
    foot_box = _foot(foot)
    failures: list[RigError] = []
    for path in paths:
        try:
            result = analyse_file(path, filter_name, foot_box, body_weight_n, landing)
        except RigError as e:
            if len(paths) == 1:
                raise
            click.echo(f"Error: {e}", err=True)
            failures.append(e)
            continue
        click.echo(_json_line(result) if as_json else _table(result))
    if failures:
        raise AnalysisError(f"{len(failures)} of {len(paths)} files could not be analysed")
