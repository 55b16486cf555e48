"""Report figures (matplotlib, no pyplot: safe beside a Qt GUI and without a display).

A stabilogram per task: one panel per leg with the COP path of every valid trial in its
analysed window (board frame, mm) and each trial's 95 % prediction ellipse (the F form the
measures use, rig.engine.sway.area.prediction_ellipse: the drawn ellipse is the reported
area), and below it the ML and AP COP over
time of the first valid trial. The COP is low-pass filtered as for the measures (rig.engine.cop
preprocessing, default preset) when possible, else shown as recorded.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from rig.io.data import trial_table

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def trial_cop(session: dict, trial: dict, frames) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """t (s from window start), COP x and y (mm, board frame) inside the analysed window."""
    cols = trial_table(session, trial, frames)
    sel = cols["in_window"].astype(bool) & np.isfinite(cols["cop_x_mm"]) & np.isfinite(cols["cop_y_mm"])
    t, x, y, fz = cols["t_s"][sel], cols["cop_x_mm"][sel], cols["cop_y_mm"][sel], cols["fz_n"][sel]
    if len(t) < 10:
        return t - (t[0] if len(t) else 0), x, y
    try:
        from rig.engine.cop import preprocess

        tr = preprocess(t, x, y, fz)
        bx, by = tr.board_xy_mm()
        return tr.t_s - tr.t_s[0], bx, by
    except Exception:  # display only: show the recorded COP rather than nothing
        return t - t[0], x, y


def prediction_ellipse(x, y):
    """(centre, width, height, angle_deg) of the 95 % prediction ellipse of the points, for
    matplotlib: the same ellipse as the ``ellipse95_area_mm2`` measure (one definition)."""
    from rig.engine.sway.area import prediction_ellipse as ellipse

    e = ellipse(x, y)
    angle = 0.0 if not np.isfinite(e.angle_deg) else e.angle_deg
    return (float(e.centre_mm[0]), float(e.centre_mm[1])), 2 * e.major_mm, 2 * e.minor_mm, angle


def stabilogram_figure(task_label: str, per_side: dict[str, list[tuple[dict, tuple]]]) -> Figure:
    """``per_side``: side -> [(trial, (t, x, y)), ...] of valid trials (may be empty)."""
    sides = list(per_side)
    fig = Figure(figsize=(3.6 * max(len(sides), 1) + 0.4, 4.6), dpi=100)
    # every leg's panel spans the same millimetres (about its own centre), so L and R compare
    spans = [max(float(np.ptp(x)), float(np.ptp(y))) for lst in per_side.values() for _, (_, x, y) in lst if len(x)]
    half = 0.55 * max(spans) if spans else None
    gs = fig.add_gridspec(2, max(len(sides), 1), height_ratios=[2.3, 1], hspace=0.38, wspace=0.3)
    for j, side in enumerate(sides):
        ax = fig.add_subplot(gs[0, j])
        trials = per_side[side]
        for k, (trial, (t, x, y)) in enumerate(trials):
            c = COLORS[k % len(COLORS)]
            ax.plot(x, y, lw=0.7, color=c, alpha=0.85, label=f"trial {trial.get('number', trial['index'])}")
            if len(x) > 3:
                centre, w, h, ang = prediction_ellipse(x, y)
                ax.add_patch(Ellipse(centre, w, h, angle=ang, fill=False, lw=1.4, ls="--", color=c))
        if half and trials:
            allx = np.concatenate([x for _, (_, x, _) in trials])
            ally = np.concatenate([y for _, (_, _, y) in trials])
            cx, cy = (allx.min() + allx.max()) / 2, (ally.min() + ally.max()) / 2
            ax.set_xlim(cx - half, cx + half)
            ax.set_ylim(cy - half, cy + half)
        ax.set_aspect("equal")
        ax.set_title(f"{side.capitalize() if side != 'both' else 'Both feet'}: "
                     f"{len(trials)} valid trial{'s' * (len(trials) != 1)}", fontsize=10)
        ax.set_xlabel("COP x (mm), + right", fontsize=9)
        ax.set_ylabel("COP y (mm), + forward", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, lw=0.3, alpha=0.6)
        if trials:
            ax.legend(fontsize=7, loc="upper right", title="dashed: 95 % ellipse", title_fontsize=7)
        else:
            ax.text(0.5, 0.5, "no valid trial", ha="center", va="center", transform=ax.transAxes)
        axt = fig.add_subplot(gs[1, j])
        if trials:
            trial, (t, x, y) = trials[0]
            axt.plot(t, x - np.mean(x), lw=0.8, color="#1f77b4", label="ML (x)")
            axt.plot(t, y - np.mean(y), lw=0.8, color="#d62728", label="AP (y)")
            axt.legend(fontsize=7, loc="upper right", ncol=2)
            axt.set_title(f"trial {trial.get('number', trial['index'])}: COP about its mean", fontsize=9)
        axt.set_xlabel("time in window (s)", fontsize=9)
        axt.set_ylabel("mm", fontsize=9)
        axt.tick_params(labelsize=8)
        axt.grid(True, lw=0.3, alpha=0.6)
    fig.suptitle(task_label, fontsize=11, fontweight="bold")
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.08)
    return fig


SIDE_COLORS = {"left": "#1f77b4", "right": "#d62728", "both": "#2ca02c"}


def overview_figure(panels: list[tuple[str, dict[str, list[tuple]]]], width_in: float = 7.0) -> Figure:
    """Page 1's stabilograms: one panel per task, left and right on the same axes.

    ``panels``: [(task label, {side: [(t, x, y), ...]})]. Each side's COP is drawn about that
    side's own mean (so the two feet, 180 mm apart on the board, overlap and their sway is
    compared directly), with the 95 % prediction ellipse of the side's pooled valid trials;
    every panel has the same limits, so panels compare too."""
    n = max(len(panels), 1)
    ncols = min(n, 4)
    nrows = (n + ncols - 1) // ncols
    panel_in = min(2.3, (width_in - 0.3) / ncols)
    fig = Figure(figsize=(width_in, panel_in * nrows + 0.4), dpi=100)
    half = 5.0
    centred = []
    for label, sides in panels:
        cs = {}
        for side, trials in sides.items():
            xs = [np.asarray(x, float) for _, x, _ in trials if len(x)]
            ys = [np.asarray(y, float) for _, _, y in trials if len(y)]
            if not xs:
                continue
            mx, my = np.mean(np.concatenate(xs)), np.mean(np.concatenate(ys))
            cs[side] = [(x - mx, y - my) for x, y in zip(xs, ys)]
            half = max(half, *(float(np.max(np.abs(np.r_[x - mx, y - my]))) for x, y in zip(xs, ys)))
        centred.append((label, cs))
    half *= 1.08
    for i, (label, cs) in enumerate(centred):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for side, traces in sorted(cs.items(), key=lambda kv: {"left": 0, "right": 1}.get(kv[0], 2)):
            c = SIDE_COLORS.get(side, "#555")
            for k, (x, y) in enumerate(traces):
                ax.plot(x, y, lw=0.6, color=c, alpha=0.75,
                        label=(side.capitalize() if side != "both" else "Both feet") if k == 0 else None)
            px, py = np.concatenate([x for x, _ in traces]), np.concatenate([y for _, y in traces])
            if len(px) > 3:
                centre, w, h, ang = prediction_ellipse(px, py)
                ax.add_patch(Ellipse(centre, w, h, angle=ang, fill=False, lw=1.5, ls="--", color=c))
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_title(label, fontsize=8.5)
        ax.set_xlabel("ML (mm), + right", fontsize=8)
        if i % ncols == 0:
            ax.set_ylabel("AP (mm), + forward", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, lw=0.3, alpha=0.6)
        if cs:
            ax.legend(fontsize=7, loc="upper right")
        else:
            ax.text(0.5, 0.5, "no valid trial", ha="center", va="center", transform=ax.transAxes, fontsize=8)
    fig.tight_layout()
    return fig


def progress_figure(series: list[dict], width_in: float = 7.0) -> Figure:
    """An athlete over time: one panel per (condition, measure), a line per side, the baseline
    value (dotted) and its MDC band (shaded: a change inside it is not a detectable change).

    ``series``: [{"title", "ylabel", "sides": {side: (dates, values)}, "baseline": {side: v},
    "mdc": {side: half-width}, "xlabels": [label of session 0, 1, ...]}] with x the session number."""
    n = max(len(series), 1)
    ncols = 2 if n > 1 else 1
    nrows = (n + ncols - 1) // ncols
    fig = Figure(figsize=(width_in, 2.4 * nrows + 0.3), dpi=100)
    for i, s in enumerate(series):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for side, (dates, vals) in s["sides"].items():
            c = SIDE_COLORS.get(side, "#555")
            ax.plot(dates, vals, "o-", color=c, lw=1.2, ms=4,
                    label=side.capitalize() if side != "both" else "Both feet")
            b = s.get("baseline", {}).get(side)
            m = s.get("mdc", {}).get(side)
            if b is not None and np.isfinite(b):
                ax.axhline(b, color=c, lw=0.8, ls=":")
                if m is not None and np.isfinite(m):
                    ax.axhspan(b - m, b + m, color=c, alpha=0.12, lw=0)
        ax.set_title(s["title"], fontsize=8.5)
        ax.set_ylabel(s["ylabel"], fontsize=8)
        ax.tick_params(labelsize=7)
        if s.get("xlabels"):
            ax.set_xticks(range(len(s["xlabels"])), s["xlabels"])
            ax.set_xlim(-0.3, len(s["xlabels"]) - 0.7)
            ax.set_xlabel("session: date (UTC)", fontsize=7)
        for lbl in ax.get_xticklabels():
            lbl.set_rotation(30)
            lbl.set_ha("right")
        ax.grid(True, lw=0.3, alpha=0.6)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig
