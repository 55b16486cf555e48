"""Single-leg stance measures: time-to-boundary, share of the foot used, touch-downs.

Time-to-boundary (TTB; Hertel, Olmsted-Kramer & Challis 2006, J Appl Biomech 22:67): the time
the COP would need to reach the edge of the base of support if it kept its instantaneous
velocity. Our variant (first order, per axis; science.md §2.2, algorithm details [U], verify
against Hertel 2006 before relying on absolute values):

- the base of support is the rectangle of the foot's length (AP) and width (ML), placed at
  the foot's known position on the board (``Foot``), axes aligned with the board;
- velocity by central differences of the (filtered) COP;
- TTB_ML[i] = distance from the COP to the ML edge it is moving towards / |v_ML[i]|, likewise
  AP; samples with zero velocity give no TTB; a COP outside the rectangle counts as 0 s;
- the minima are the local minima (valleys) of each TTB series; per axis we report the
  absolute minimum, the mean of the minima and their SD (N - 1), in seconds.

Where the rectangle stands (``placement``), each under its own keys:

- ``"mark"`` (keys ``ttb_{min,mean_min,sd_min}_{ml,ap}_s``): centred on the printed foot mark
  given in ``Foot``. Moving it 10 mm in ML changes TTB ML absolute minimum by about 20 %:
  the value depends on how exactly the athlete stood on the mark.
- ``"cop"`` (keys ``ttb_..._{ml,ap}_at_cop_s``): the athlete's own foot length and width,
  centred on the trial's mean COP (``foot_at_cop``): where the foot actually stood,
  whatever the mark. Centring the rectangle on the mean COP in AP too is this project's
  assumption (the COP of single-leg stance lies near mid-foot; no published placement rule
  was found); ML centring on the mean COP follows from the stance foot carrying all weight.
- literature settings (keys ``ttb_..._{ml,ap}_50hz_s``): the COP window-averaged onto a 50 Hz
  grid, the rate of Hertel's laboratory (500 points in a 10 s trial; PMC4559992, science.md
  §2.2), after the trace's own low-pass (default 10 Hz), foot placed as ``"cop"``. Settings
  in ``TTB_SETTINGS``.

Touch-downs and time in balance (proxies for the foot-lift test, Hertel et al. 2006, and the
time-in-balance test, Chrintz et al. 1991; science.md §2.6, experimental until validated
against video): an event is a drop of the total force below (1 - drop_fraction) * body weight
(the free foot took weight off the board) or a COP jump of more than ``jump_mm`` within
``jump_window_s`` (the free foot touched the board, or the stance foot shifted). Events
closer than ``merge_s`` count once. Time in balance = time from the start of the trace to the
first event (the whole trace when there is none).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rig.errors import AnalysisError
from rig.engine.sway import _checks
from rig.engine.sway.registry import register, register_all

HERTEL = "Hertel, Olmsted-Kramer & Challis 2006, J Appl Biomech 22:67 (first-order variant)"
KNAPP = "Knapp et al. 2011, J Athl Train 46:257 (% of range used, here of foot size)"
FOOTLIFT = "Hertel et al. 2006 foot-lift; Chrintz et al. 1991 time in balance (board proxies)"
# merge_s: a touch-down shows as a COP jump towards the free foot and a jump back when it lifts
# again (typically 0.3-1 s later); both jumps within merge_s are one event.
TTB_SETTINGS = {"order": "first (position and velocity)", "velocity": "central differences",
                "minima": "local minima of the per-sample TTB", "sd": "N - 1",
                "placement_mark": "rectangle centred on the printed foot mark",
                "placement_cop": "rectangle of the athlete's foot centred on the trial's mean COP "
                                 "(this project's assumption for AP)",
                "literature_rate_hz": 50.0,
                "literature": "COP window-averaged to 50 Hz (Hertel lab, PMC4559992) after the "
                              "trace's low-pass; foot placed at the mean COP"}
from rig.engine.footlift import TOUCHDOWN_SETTINGS  # noqa: E402  (one touch-down rule: footlift)
from rig.engine.footlift import find as find_footlifts  # noqa: E402


@dataclass(frozen=True)
class Foot:
    """The stance foot's base of support on the board: a rectangle aligned with the board.

    length_mm: heel to longest toe (AP extent); width_mm: widest forefoot (ML extent);
    centre_x_mm, centre_y_mm: centre of that rectangle in the board frame (mm).
    """

    length_mm: float
    width_mm: float
    centre_x_mm: float
    centre_y_mm: float

    def __post_init__(self):
        if not (self.length_mm > 0 and self.width_mm > 0):
            raise AnalysisError(f"foot length and width must be positive, got "
                                f"{self.length_mm} x {self.width_mm} mm")

    @property
    def bounds_mm(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) of the base of support, board frame, mm."""
        hw, hl = self.width_mm / 2, self.length_mm / 2
        return (self.centre_x_mm - hw, self.centre_x_mm + hw,
                self.centre_y_mm - hl, self.centre_y_mm + hl)


def ttb_series_s(a_mm, fs_hz, lo_mm: float, hi_mm: float) -> np.ndarray:
    """Per-sample first-order time-to-boundary along one axis (s); inf where the COP is still."""
    a = _checks.axis(a_mm, min_n=3)
    v = np.gradient(a, 1.0 / _checks.rate(fs_hz))
    dist = np.where(v > 0, hi_mm - a, a - lo_mm)
    dist = np.maximum(dist, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v != 0, dist / np.abs(v), np.inf)


def _minima(ttb: np.ndarray) -> np.ndarray:
    """Values at the local minima (valleys) of a TTB series, ignoring infinite samples."""
    t = ttb[np.isfinite(ttb)]
    if t.shape[0] < 3:
        return t[:0]
    mid = t[1:-1]
    return mid[(mid < t[:-2]) & (mid <= t[2:])]


def foot_at_cop(foot: Foot, x_mm, y_mm) -> Foot:
    """The athlete's foot (length and width of ``foot``) centred on the mean COP of the trial
    (board frame, mm): where the foot actually stood rather than the printed mark."""
    x, y = _checks.xy(x_mm, y_mm, 1)
    return Foot(foot.length_mm, foot.width_mm, float(np.mean(x)), float(np.mean(y)))


def time_to_boundary(x_mm, y_mm, fs_hz, foot: Foot, placement: str = "mark") -> dict[str, float]:
    """TTB absolute minimum, mean of minima and SD of minima, ML and AP (s), plus the share of
    samples whose COP lies outside the foot rectangle. Hertel et al. 2006 (our first-order
    variant, module docstring). COP in the board frame (mm). ``placement``: "mark" (the
    rectangle where ``foot`` says) or "cop" (the same foot centred on the trial's mean COP,
    ``foot_at_cop``). NaN where an axis has no minima (SD: fewer than two)."""
    x, y = _checks.xy(x_mm, y_mm, 3)
    if placement == "cop":
        foot = foot_at_cop(foot, x, y)
    elif placement != "mark":
        raise ValueError(f"placement must be 'mark' or 'cop', got {placement!r}")
    x0, x1, y0, y1 = foot.bounds_mm
    out = {}
    for ax, a, lo, hi in (("ml", x, x0, x1), ("ap", y, y0, y1)):
        mins = _minima(ttb_series_s(a, fs_hz, lo, hi))
        out[f"ttb_min_{ax}_s"] = float(mins.min()) if mins.size else float("nan")
        out[f"ttb_mean_min_{ax}_s"] = float(mins.mean()) if mins.size else float("nan")
        out[f"ttb_sd_min_{ax}_s"] = float(np.std(mins, ddof=1)) if mins.size > 1 else float("nan")
    outside = (x < x0) | (x > x1) | (y < y0) | (y > y1)
    out["cop_outside_foot_fraction"] = float(outside.mean())
    return out


def _renamed(ttb: dict, suffix: str) -> dict[str, float]:
    return {k[:-2] + suffix: v for k, v in ttb.items() if k.startswith("ttb_")}


def time_to_boundary_at_cop(x_mm, y_mm, fs_hz, foot: Foot) -> dict[str, float]:
    """TTB with the athlete's foot centred on the trial's mean COP (s): keys
    ``ttb_{min,mean_min,sd_min}_{ml,ap}_at_cop_s``. Hertel et al. 2006 (first-order variant);
    placement in the module docstring."""
    return _renamed(time_to_boundary(x_mm, y_mm, fs_hz, foot, placement="cop"), "_at_cop_s")


def time_to_boundary_50hz(x_mm, y_mm, fs_hz, foot: Foot) -> dict[str, float]:
    """TTB at the literature's rate (s): the COP window-averaged onto a 50 Hz grid (Hertel's
    laboratory, PMC4559992), foot centred on the mean COP; keys
    ``ttb_{min,mean_min,sd_min}_{ml,ap}_50hz_s``. Hertel et al. 2006. NaN below 3 samples
    at 50 Hz. Traces already at or below 50 Hz are used as they are."""
    from rig.engine.preprocess import window_average
    x, y = _checks.xy(x_mm, y_mm, 3)
    fs = _checks.rate(fs_hz)
    rate = TTB_SETTINGS["literature_rate_hz"]
    if fs > rate:
        t = np.arange(x.shape[0]) / fs
        grid = np.arange(int(np.floor(t[-1] * rate + 1e-9)) + 1) / rate
        xy = window_average(t, np.column_stack([x, y]), grid, 1.0 / rate)
        x, y, fs = xy[:, 0], xy[:, 1], rate
    if x.shape[0] < 3:
        keys = time_to_boundary(np.zeros(3), np.zeros(3), 1.0, foot)
        return {k: float("nan") for k in _renamed(keys, "_50hz_s")}
    return _renamed(time_to_boundary(x, y, fs, foot, placement="cop"), "_50hz_s")


def ml_percent_foot_width_used(x_mm, foot: Foot) -> float:
    """ML COP range as a percentage of the foot width (%). After Knapp et al. 2011's
    "percentage of COP range used" (there relative to the foot's measured width)."""
    return 100.0 * float(np.ptp(_checks.axis(x_mm, min_n=1))) / foot.width_mm


def ap_percent_foot_length_used(y_mm, foot: Foot) -> float:
    """AP COP range as a percentage of the foot length (%). Knapp et al. 2011 (AP analogue)."""
    return 100.0 * float(np.ptp(_checks.axis(y_mm, min_n=1))) / foot.length_mm


@dataclass(frozen=True)
class Touchdowns:
    """Balance losses found in a single-leg trial. ``onsets_s``: times from the trace start."""

    count: int
    onsets_s: np.ndarray
    time_in_balance_s: float


def detect_touchdowns(fz_n, x_mm, y_mm, fs_hz, body_weight_n: float,
                      drop_fraction: float = TOUCHDOWN_SETTINGS["drop_fraction"],
                      jump_mm: float = TOUCHDOWN_SETTINGS["jump_mm"],
                      jump_window_s: float = TOUCHDOWN_SETTINGS["jump_window_s"],
                      merge_s: float = TOUCHDOWN_SETTINGS["merge_s"]) -> Touchdowns:
    """Touch-downs of the free foot and time in balance from force drops and COP jumps.
    Proxies for the foot-lift and time-in-balance tests (module docstring); force in N, COP
    in mm, body weight in N. Experimental: validate against video before clinical use."""
    fz = _checks.axis(fz_n, "fz_n", min_n=3)
    x, y = _checks.xy(x_mm, y_mm, 3)
    if fz.shape != x.shape:
        raise AnalysisError(f"fz_n has {fz.shape[0]} samples but the COP has {x.shape[0]}")
    fs = _checks.rate(fs_hz)
    if not body_weight_n > 0:
        raise AnalysisError(f"body weight must be positive, got {body_weight_n} N")
    # one rule for touch-downs: rig.engine.footlift (the runner counts foot-lifts with it too)
    n = x.shape[0]
    fl = find_footlifts(np.arange(n) / fs, fz, x, y, body_weight_n,
                       {"drop_fraction": drop_fraction, "jump_mm": jump_mm,
                        "jump_window_s": jump_window_s, "merge_s": merge_s})
    onsets = np.array([a for a, _ in fl.events_s], dtype=float)
    tib = float(onsets[0]) if onsets.size else n / fs
    return Touchdowns(int(onsets.size), onsets, tib)


_TTB_STATS = (("min", "absolute minimum"), ("mean_min", "mean of minima"), ("sd_min", "SD of minima"))
for _ax, _AX in (("ml", "ML"), ("ap", "AP")):
    register_all(time_to_boundary, "single_leg",
                 [(f"ttb_{_stat}_{_ax}_s", "s", f"TTB {_lab} {_AX}", HERTEL) for _stat, _lab in _TTB_STATS])
    for _stat, _lab in _TTB_STATS:
        register(f"ttb_{_stat}_{_ax}_at_cop_s", "s", f"TTB {_lab} {_AX}, foot at mean COP",
                 HERTEL + "; foot centred on the trial's mean COP", time_to_boundary_at_cop, "single_leg")
        register(f"ttb_{_stat}_{_ax}_50hz_s", "s", f"TTB {_lab} {_AX}, 50 Hz, foot at mean COP",
                 HERTEL + "; 50 Hz as in Hertel's lab (PMC4559992); foot at mean COP",
                 time_to_boundary_50hz, "single_leg")
register("cop_outside_foot_fraction", "1", "Share of samples with COP outside the foot", HERTEL,
         time_to_boundary, "single_leg")
register("ml_percent_foot_width_used", "%", "ML range as % of foot width", KNAPP,
         ml_percent_foot_width_used, "single_leg")
register("ap_percent_foot_length_used", "%", "AP range as % of foot length", KNAPP,
         ap_percent_foot_length_used, "single_leg")
register_all(detect_touchdowns, "single_leg", [
    ("touchdowns", "count", "Touch-downs / balance losses (experimental)", FOOTLIFT),
    ("time_in_balance_s", "s", "Time in balance (experimental)", FOOTLIFT),
])
