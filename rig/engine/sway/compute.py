"""``compute_measures``: the standard measure set of one trace, plus the ones its inputs allow.

Rules for degenerate input (documented once; tests hold us to them):
- fewer than ``MIN_SAMPLES`` samples, any NaN COP (nobody on the board) or a COP that never
  moves (a constant trace) raise ``AnalysisError`` with one line saying which and where;
- measures that are undefined for a valid trace are NaN, by the rule stated in their module
  (e.g. SDA for trials under 15 s, an ellipse angle for isotropic scatter, TTB SD with fewer
  than two minima).
"""
from __future__ import annotations

import numpy as np

from rig.errors import AnalysisError
from rig.engine.preprocess import Trace
from rig.engine.sway import area, diffusion, landing, nonlinear, single_leg, spectral, time_domain as td
from rig.engine.sway.registry import register

MIN_SAMPLES = 10
#: Optional measure sets (time-domain, area and trial facts are always computed).
#: "entropy" and "dfa": sample entropy and DFA alpha on the fixed 20 Hz time base (comparable
#: across boards); "board-entropy" and "board-dfa": the same at the board's own rate (the
#: older keys; their values depend on the board's rate and filtering: for the same sway DFA
#: alpha is 0.60 at 80 Hz and 1.06 at 1 kHz, sample entropy 0.86 at 83 Hz and 0.12 at 1 kHz;
#: computed only on request, so that a default output never invites comparing them).
MEASURE_SETS = ("spectral", "diffusion", "dfa", "entropy", "board-entropy", "board-dfa")
#: The sets computed by default (``rig analyze``, the runner): all but the board-rate ones.
DEFAULT_MEASURE_SETS = ("spectral", "diffusion", "dfa", "entropy")
SETTINGS = {"welch": spectral.WELCH_SETTINGS, "sda": diffusion.SDA_SETTINGS,
            "sample_entropy": nonlinear.SAMPEN_SETTINGS, "dfa": nonlinear.DFA_SETTINGS,
            "nonlinear_timebase": nonlinear.TIMEBASE, "ttb": single_leg.TTB_SETTINGS,
            "ellipse": "95 % prediction ellipse, F form (Chew 1966), unbiased covariance",
            "duration": "N / fs"}


def _check_trace(trace: Trace) -> None:
    n = trace.n
    if n < MIN_SAMPLES:
        raise AnalysisError(f"trace too short: {n} sample(s), measures need at least {MIN_SAMPLES}")
    bad = ~(np.isfinite(trace.cop_x_mm) & np.isfinite(trace.cop_y_mm))
    if bad.all():
        raise AnalysisError(f"nobody on the board: COP undefined in all {n} samples")
    if bad.any():
        i = np.flatnonzero(bad)
        t = trace.t_s
        raise AnalysisError(
            f"COP undefined (nobody on the board) in {i.size} of {n} samples, first at "
            f"t = {t[i[0]]:.3f} s, last at t = {t[i[-1]]:.3f} s; trim them (e.g. --filter default)")
    if np.ptp(trace.cop_x_mm) == 0 and np.ptp(trace.cop_y_mm) == 0:
        raise AnalysisError(f"COP constant over all {n} samples: no sway to measure "
                            "(a dead or disconnected board?)")


def compute_measures(trace: Trace, *, foot: single_leg.Foot | None = None,
                     body_weight_n: float | None = None, landing_trial: bool = False,
                     spectral_measures: bool = True, research: bool = True,
                     entropy: bool = True, sets=None) -> dict[str, float]:
    """Measures of one trace, keyed by name (units in the names; see ``MEASURES``).

    Always: trial facts (n_samples, fs_hz, duration_s), Prieto time-domain measures, area
    measures. Optional sets (``MEASURE_SETS``), chosen by ``sets`` (an iterable of names) or,
    when ``sets`` is None, by the flags: ``spectral_measures``: Welch spectral set (full band
    and Prieto band). ``research``: SDA ("diffusion") and DFA on the fixed 20 Hz time base
    ("dfa"), and with ``entropy`` sample entropy on that time base ("entropy"); the
    board-rate DFA and sample entropy ("board-dfa", "board-entropy") only when asked for in
    ``sets``. With ``foot``: time-to-boundary (at the mark, at the mean COP and at 50 Hz) and % of
    foot used. With ``fz_n`` in the trace and ``body_weight_n``: touch-downs and time in
    balance (or, with ``landing_trial``, the landing measures instead, refused below 500 Hz).
    """
    if sets is None:
        chosen = set()
        if spectral_measures:
            chosen.add("spectral")
        if research:
            chosen |= {"diffusion", "dfa"} | ({"entropy"} if entropy else set())
    else:
        chosen = set(sets)
        unknown = chosen - set(MEASURE_SETS)
        if unknown:
            raise AnalysisError(f"unknown measure set(s) {', '.join(sorted(unknown))}; "
                                f"expected {', '.join(MEASURE_SETS)}")
    _check_trace(trace)
    fs = trace.fs_hz
    x, y = trace.cop_x_mm, trace.cop_y_mm
    bx, by = trace.board_xy_mm()
    out: dict[str, float] = {"n_samples": float(trace.n), "fs_hz": float(fs),
                             "duration_s": float(trace.duration_s)}
    out["cop_mean_ml_mm"] = td.cop_mean_mm(bx)
    out["cop_mean_ap_mm"] = td.cop_mean_mm(by)
    hull_area, hull_pts = area.convex_hull(x, y)
    out.update(td.time_domain_measures(x, y, fs, hull_pts))

    ell = area.prediction_ellipse(x, y, 0.95, "F")
    out["ellipse95_area_mm2"] = ell.area_mm2
    out["ellipse95_major_mm"] = ell.major_mm
    out["ellipse95_minor_mm"] = ell.minor_mm
    out["ellipse95_angle_deg"] = ell.angle_deg
    out["ellipse95_chi2_area_mm2"] = ell.area_mm2 * area.prediction_multiplier(trace.n, 0.95, "chi2") / ell.k
    out["convex_hull_area_mm2"] = hull_area
    out["rectangle_area_mm2"] = area.rectangle_area_mm2(x, y)

    if "spectral" in chosen:
        out.update(spectral.spectral_measures(x, y, fs))
    if "diffusion" in chosen:
        out.update(diffusion.stabilogram_diffusion(x, y, fs))
    ent, board_ent, dfa = "entropy" in chosen, "board-entropy" in chosen, "dfa" in chosen
    board_dfa = "board-dfa" in chosen
    if (board_ent or board_dfa) and trace.n > 64:
        out.update(nonlinear.nonlinear_measures(x, y, entropy=board_ent, dfa=board_dfa))
    if ent or dfa:
        out.update(nonlinear.timebase_measures(x, y, fs, entropy=ent, dfa=dfa))
    if foot is not None:
        out.update(single_leg.time_to_boundary(bx, by, fs, foot))
        out.update(single_leg.time_to_boundary_at_cop(bx, by, fs, foot))
        out.update(single_leg.time_to_boundary_50hz(bx, by, fs, foot))
        out["ml_percent_foot_width_used"] = single_leg.ml_percent_foot_width_used(bx, foot)
        out["ap_percent_foot_length_used"] = single_leg.ap_percent_foot_length_used(by, foot)
    if body_weight_n is not None:
        if trace.fz_n is None:
            raise AnalysisError("body weight given but the trace has no total force (fz_n) column")
        if landing_trial:
            out.update(landing.landing_measures(trace.fz_n, fs, body_weight_n))
        else:
            td_ = single_leg.detect_touchdowns(trace.fz_n, bx, by, fs, body_weight_n)
            out["touchdowns"] = float(td_.count)
            out["time_in_balance_s"] = td_.time_in_balance_s
    elif landing_trial:
        raise AnalysisError("landing measures need the body weight (N) and the total force fz_n")
    return out


register("n_samples", "count", "Samples analysed", "", compute_measures, "trial")
register("fs_hz", "Hz", "Sample rate", "", compute_measures, "trial")
register("duration_s", "s", "Duration (N / fs)", "", compute_measures, "trial")
