"""``rig analyze``: sway measures of COP trace files, as a table or as JSON lines.

Batches run across processes (``--jobs``, default all cores; results printed in the order
given), with a progress bar on stderr for long batches at a terminal; ``--measures`` chooses
the optional measure sets (default: all but ``board-entropy`` and ``board-dfa``, the sample
entropy and DFA at the board's own rate, whose values depend on that rate;
``--measures=+board-entropy`` adds one, ``--measures=-entropy`` skips the 20 Hz sample
entropy, ``--measures=all`` computes every set).
"""
from __future__ import annotations

import json
import math
import os
import sys

import click

from rig.errors import AnalysisError


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


#: The optional measure sets (as ``rig.engine.sway.MEASURE_SETS``; literal here so that
#: ``rig analyze --help`` imports no engine).
SETS = ("spectral", "diffusion", "dfa", "entropy", "board-entropy", "board-dfa")
#: The sets computed unless ``--measures`` says otherwise (``rig.engine.sway.DEFAULT_MEASURE_SETS``).
DEFAULT_SETS = ("spectral", "diffusion", "dfa", "entropy")
PROGRESS_MIN_FILES = 20


def parse_measures(value: str | None) -> tuple[str, ...]:
    """The measure sets to compute: ``default`` (when not given), ``all``, a comma list of
    sets, or changes to the default (``+board-entropy``, ``-entropy`` or ``no-entropy``)."""
    if value is None or value.strip() in ("", "default"):
        return DEFAULT_SETS
    if value.strip() == "all":
        return SETS
    items = [v.strip() for v in value.split(",") if v.strip()]
    changes = [v for v in items if v.startswith(("-", "+", "no-"))]
    if changes and len(changes) != len(items):
        raise click.BadParameter("either list the sets to compute or changes to the default "
                                 f"(+name, -name), not both; got {value!r}", param_hint="--measures")
    names = [v.removeprefix("no-").lstrip("+-") for v in items]
    bad = [n for n in names if n not in SETS and not (n == "all" and not changes)]
    if bad:
        raise click.BadParameter(f"unknown measure set {bad[0]!r}; expected default, all or "
                                 f"{', '.join(SETS)}", param_hint="--measures")
    if not changes:
        return SETS if "all" in names else tuple(s for s in SETS if s in names)
    add = {n for v, n in zip(items, names) if v.startswith("+")}
    drop = {n for v, n in zip(items, names) if not v.startswith("+")}
    return tuple(s for s in SETS if (s in DEFAULT_SETS or s in add) and s not in drop)


def analyse_file(path: str, filter_name: str, foot=None, body_weight_n=None,
                 landing=False, sets=DEFAULT_SETS) -> dict:
    """Read, preprocess and measure one trace file; returns the measures and the processing."""
    from rig.engine.preprocess import PreprocessOptions, preprocess
    from rig.engine.sway import SETTINGS, compute_measures
    from rig.io.traces import read_trace

    raw = read_trace(path)
    try:
        trace = preprocess(raw.t_s, raw.cop_x_mm, raw.cop_y_mm, raw.fz_n,
                           PreprocessOptions.named(filter_name))
        measures = compute_measures(trace, foot=foot, body_weight_n=body_weight_n,
                                    landing_trial=landing, sets=sets)
    except AnalysisError as e:
        raise AnalysisError(f"{path}: {e}") from None
    return {"path": path, "format": raw.format, "filter": filter_name, "measures": measures,
            "processing": trace.processing, "settings": SETTINGS, "measure_sets": list(sets)}


def _json_line(result: dict) -> str:
    m = dict(result["measures"])
    m["n_samples"] = int(m["n_samples"])
    if "touchdowns" in m:
        m["touchdowns"] = int(m["touchdowns"])
    obj = {"path": result["path"], "format": result["format"], "filter": result["filter"], **m,
           "processing": result["processing"], "settings": result["settings"],
           "measure_sets": result.get("measure_sets", list(SETS))}
    from rig.jsonable import jsonable
    # JSON has no NaN: undefined measures are null
    return json.dumps(jsonable(obj, nan_as_none=True), allow_nan=False)


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


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                       # not Linux
        return os.cpu_count() or 1


def _analyse_safe(args) -> tuple[str, dict | None, str | None]:
    """One file in a worker: (path, result, error line); user errors come back as text."""
    from rig.errors import RigError
    path = args[0]
    try:
        return path, analyse_file(*args), None
    except RigError as e:
        return path, None, str(e)


def _results(paths, common: tuple, jobs: int):
    """(path, result, error) per file, in the order given; this process and ``jobs - 1``
    workers (with the engine imported before they start) analyse them."""
    from rig.cli.batch import ordered_map
    return ordered_map(_analyse_safe, [(p, *common) for p in paths], jobs,
                       preload=["rig.cli.analyze_cmd", "rig.cli.batch", "rig.engine.preprocess",
                                "rig.engine.sway", "rig.io.traces"])


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
@click.option("--measures", "measures_opt", metavar="SETS",
              help="Optional measure sets: default (spectral, diffusion, dfa, entropy), all, a "
                   "list of spectral, diffusion, dfa and entropy (DFA and sample entropy on the "
                   "20 Hz time base), board-dfa and board-entropy (the same at the board's own "
                   "rate: not comparable across rates; board-entropy is slow at 1 kHz), or "
                   "changes to the default, e.g. --measures=+board-entropy or "
                   "--measures=-entropy. Time-domain and area measures are always computed.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True,
              help="Processes for a batch (0: all cores).")
@click.option("--progress/--no-progress", default=None,
              help=f"Progress bar on stderr (default: for {PROGRESS_MIN_FILES}+ files at a terminal).")
def analyze(paths, as_json, filter_name, foot, body_weight_n, landing, measures_opt, jobs, progress):
    """Compute sway measures from COP trace files.

    A trace file is CSV with a header containing t_s,cop_x_mm,cop_y_mm (optionally fz_n;
    '#' lines and extra columns allowed; empty COP = nobody on the board), e.g. from
    `rig stream` with a calibration. Posture Data Set grf files are read too.
    """
    sets = parse_measures(measures_opt)
    foot_box = _foot(foot)
    if len(paths) == 1:                      # one file: its own error, as raised
        result = analyse_file(paths[0], filter_name, foot_box, body_weight_n, landing, sets)
        click.echo(_json_line(result) if as_json else _table(result))
        return
    jobs = jobs or _default_jobs()
    if progress is None:
        progress = len(paths) >= PROGRESS_MIN_FILES and sys.stderr.isatty()
    failures = 0
    results = _results(paths, (filter_name, foot_box, body_weight_n, landing, sets), jobs)
    bar = None
    if progress:
        bar = click.progressbar(length=len(paths), label="analysing", file=sys.stderr,
                                show_pos=True, show_eta=True)
        bar.__enter__()
    try:
        for path, result, error in results:
            if bar is not None:
                bar.update(1)
            if error is not None:
                click.echo(f"Error: {error}", err=True)
                failures += 1
                continue
            click.echo(_json_line(result) if as_json else _table(result))
    finally:
        results.close()                      # its workers stop now, even on an error here
        if bar is not None:
            bar.__exit__(None, None, None)
    if failures:
        raise AnalysisError(f"{failures} of {len(paths)} files could not be analysed")
