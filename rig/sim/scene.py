"""What stands on the simulated board: a person, static test loads, or a replayed recording.

``build_scene(opts, rng, positions_mm)`` returns a ``Scene`` whose ``forces_n(t_s)`` gives the
vertical force on each of the four cells (N, cell order FL FR BL BR). Every source produces a
net vertical force and a centre of pressure; ``distribute`` turns them into the four cell loads
(bilinear: exact for a rigid top on four corner supports), so the COP computed from the cells is
the source's COP.

The person
----------
Body weight rests on the feet; each foot stands on its mark (``rig.engine.stance``) and carries a
share of the weight that changes as the person steps on (one foot, then the other), lifts a
foot for a single-leg stance, touches it down again, or steps off. The COP is the
weight-weighted mean of the feet plus postural sway.

Sway comes from an inverted pendulum under noisy feedback control (Winter 1995; Peterka 2002):
the centre of mass (COM) follows a damped second-order response to band-limited neural noise,
and the COP leads it as the pendulum requires, ``cop = com - (h / g) * com''`` (h: COM height),
which gives the COP its faster, larger-bandwidth wander around the slower COM. On top rides a
small fast component (band-limited around 10 Hz: the foot's and ankle's quick corrections) that
carries much of the COP velocity at 100 Hz with a 10 Hz low-pass and little of it at 50 Hz with
a 5 Hz low-pass. Amplitude and frequency depend on the stance (bipedal < tandem < single leg),
vision (eyes closed sways more and faster: Romberg), surface (foam more) and the profile.

The single-leg athlete is calibrated to the published figures in
``rig.published.sway_reference`` (docs/SIMULATED_ATHLETE.md; checked by
tests/sim/test_population.py): people differ (COP velocity CV ~22 %), trials differ (typical
error ~12 %). With ``profile=cai`` the injured side's single-leg stance with eyes closed sways
more, faster and more medio-laterally by the published effect sizes (d about 0.5-0.8: Ross 2009;
McKeon & Hertel 2008), with eyes open hardly at all (no group difference: McKeon & Hertel 2008;
Knapp 2011); the uninjured side is partly affected (bilateral deficits); each person's severity
varies; the free foot touches down more often (foot-lift test g -0.76: Rosen 2019).
``profile=cai-demo`` is the same athlete with the effects four times as large (``effect=4``)
and the other ankle normal, for demonstrations that must show a one-sided deficit in one
session: say so wherever it is used.
A hop landing is an impact peak of about 3 body weights and a damped settling whose time
constant is longer on an injured ankle (Ross & Guskiewicz 2004; Brown 2010).

Each seed is a different person: body mass, sway amplitudes and frequencies, the small natural
asymmetry between the legs, CAI severity and touch-down proneness vary between seeds. Everything is deterministic for a seed and a function of
board time only (sway is generated on a fixed internal 2 kHz grid in fixed windows, whatever
the chunks asked for). The timeline starts at the first sample streamed: the athlete cannot
hear the software, so scripted runs (``script=``) follow a timetable the runner is built to
meet, as a real athlete follows spoken instructions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from rig.engine import stance as stance_marks
from rig.sim.board import _float_opt
from rig.sim import movements
from rig.sim.calibration_scene import SceneClock, distribute
from rig.units import G_M_S2

GRID_HZ = 2000.0
WINDOW_S = 8.0
COM_HEIGHT_M = 0.95

OPTION_NAMES = {
    "person": "1 = a person steps on the board (default), 0 = nobody (only load= / replay=)",
    "mass_kg": "the person's body mass in kg (default: 55-95 kg, from the seed)",
    "profile": "healthy (default); cai: one ankle chronically unstable, effects of the published size; "
               "cai-demo: exaggerated (effect=4) and one-sided (the other ankle normal) so that a "
               "demonstration shows it clearly",
    "effect": "multiplier of the CAI effects (default 1 with profile=cai, 4 with cai-demo)",
    "injured": "left (default) or right: the unstable ankle with profile=cai or cai-demo",
    "stance": "bipedal (default), tandem, single_left or single_right",
    "eyes": "open (default) or closed",
    "surface": "firm (default) or foam",
    "on_s": "seconds after streaming starts when the person steps on (default 1.5)",
    "off_s": "seconds after streaming starts when the person steps off (default never)",
    "script": "a timetable of trials, e.g. single_left:closed:14,hop_right:12 (STANCE:EYES[:SURFACE]:S "
              "or hop_SIDE:S); the person steps off for rest_s between them",
    "rest_s": "seconds off the board between scripted trials (default 6)",
    "events": "extra events at board seconds after streaming starts, comma separated: touchdown@T[:D], "
              "stepoff@T, lean@T:D (forward lean for D s), shift@T:DX (feet moved DX mm sideways)",
    "sway": "sway amplitude multiplier (default 1)",
    "load": "a static mass KG@X,Y at X,Y mm (repeatable), e.g. load=20@0,0",
    "replay": "path of a COP recording (CSV t_s,cop_x_mm,cop_y_mm[,fz_n] or Posture Data Set grf) "
              "played from on_s, net force and COP turned into four cell loads",
    "loop": "1 = replay the recording again and again (default: step off at its end)",
    **movements.OPTION_NAMES,       # the chain tests' movements (rig.sim.movements)
}
SCENE_OPTIONS_HELP = "\n".join(f"{k:<11} {v}" for k, v in OPTION_NAMES.items())

PROFILES = ("healthy", "cai", "cai-demo")
DEMO_EFFECT = 4.0
SIDES = ("left", "right")
EYES = ("open", "closed")
SURFACES = ("firm", "foam")

# Sway of a healthy adult: a slow component (the inverted pendulum, COP SD per axis in mm and the
# natural frequency of the COM loop in Hz) and a fast one (the foot's and ankle's quick
# corrections: small, around 10 Hz). Bipedal quiet stance SD ~2-5 mm (Prieto 1996); single-leg stance
# several times larger. The single-leg figures are calibrated so that a simulated population
# reproduces the published values in rig.published.sway_reference (docs/SIMULATED_ATHLETE.md):
# the fast part carries much of the COP velocity at 100 Hz / 10 Hz low-pass and little of it
# at 50 Hz / 5 Hz, where the time-to-boundary figures of the Hertel lab were obtained.
_BASE = {  # stance: (sd_ml_mm, sd_ap_mm, f0_ml_hz, f0_ap_hz)
    "bipedal": (2.2, 3.8, 0.35, 0.30),
    "tandem": (4.5, 3.8, 0.55, 0.40),
    "single": (2.7, 2.5, 0.75, 0.60),
}
_FAST = {  # stance: (sd_ml_mm, sd_ap_mm, centre_hz) of the fast corrective component
    "bipedal": (0.15, 0.2, 10.5),
    "tandem": (0.4, 0.5, 10.5),
    "single": (0.92, 1.52, 10.5),
}
_EYES_CLOSED = {"bipedal": (1.35, 1.15), "tandem": (1.6, 1.2), "single": (1.75, 1.25)}  # (amp, freq)
_FOAM = (1.4, 1.1)
# Differences between people and between trials (lognormal sigmas). Published: COP velocity of
# single-leg EC stance varies between people with a CV of about 22 % and from trial to trial
# with a typical error of about 12 % (J Sports Sci Med 2018;17:174).
_PERSON_AMP_SIGMA = 0.17
_PERSON_SPEED_SIGMA = 0.08
_LEG_SIGMA = 0.04
_AXIS_SIGMA = (0.0, 0.15)  # a person's own ML and AP slow-sway amplitudes (how they balance)
_TRIAL_SIGMA = 0.10
# CAI, at effect=1: log-factors of the injured limb's single-leg sway with eyes closed (slow ML
# amplitude, slow AP amplitude, frequency, fast amplitude), times the person's severity (uniform 0.5-1.5); with eyes
# open a small share of it, the uninjured limb a part of it (deficits are often bilateral:
# Sports Med Open 2024, doi 10.1186/s40798-024-00702-y; Son 2018). Published effect sizes: d
# about 0.5-0.8 eyes closed, none eyes open (McKeon & Hertel 2008; Ross 2009; Knapp 2011).
_CAI_LOG = (0.14, 0.08, 0.02, 0.12)   # + the fast component's amplitude
_CAI_EYES_OPEN_SHARE = 0.05
_CAI_FAST_MAX_SHARE = 1.5
_CAI_UNINJURED_SHARE = 0.4
# free-foot touch-downs per second of single-leg stance (a person's rate is this times a gamma
# factor of mean 1, shape 3): healthy limb / injured limb (effect=1), EO / EC. More with CAI:
# foot-lift test g = -0.76 (Rosen, Needle & Ko 2019).
_TOUCHDOWN_RATE = {("healthy", "open"): 0.05 / 30, ("healthy", "closed"): 0.25 / 30,
                   ("cai", "open"): 0.1 / 30, ("cai", "closed"): 1.1 / 30}
_TOUCHDOWN_SHAPE = 3.0
_TOUCHDOWN_MAX_SHARE = 1.0
# hop landing: settling time constant (s) of the sway after impact
_LAND_TAU_S = {"healthy": 0.35, "cai": 0.65}


def _smooth(z):
    z = np.clip(z, 0.0, 1.0)
    return z * z * (3 - 2 * z)


def _choice(opts, name, allowed, default):
    if name not in opts:
        return default
    v = opts[name][-1]
    if v not in allowed:
        raise ValueError(f"sim://: option {name}={v!r}; expected one of {', '.join(allowed)}")
    return v


def _num(opts, name, default, lo, hi):
    """A numeric option within lo..hi (the board model's parser: same messages)."""
    return _float_opt(opts, name, default, lo, hi)


# ----------------------------------------------------------------------------- the timetable
@dataclass
class Segment:
    """One stretch of the person on the board, in scene seconds (from the first sample)."""

    start_s: float
    duration_s: float          # time on the board (inf = until the end)
    stance: str                # bipedal | tandem | single_left | single_right
    eyes: str = "open"
    surface: str = "firm"
    hop: bool = False          # arrives by a hop landing instead of stepping on
    touchdowns: list[tuple[float, float]] = field(default_factory=list)   # (t_s, duration_s)
    stepoff_s: float | None = None
    leans: list[tuple[float, float]] = field(default_factory=list)        # (t_s, duration_s)
    shifts: list[tuple[float, float]] = field(default_factory=list)       # (t_s, dx_mm)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def side(self) -> str | None:
        if self.stance.startswith("single_"):
            return self.stance[len("single_"):]
        return None


def parse_script(text: str) -> list[tuple[str, str, str, bool, float]]:
    """``single_left:closed:14,hop_right:12`` -> [(stance, eyes, surface, hop, seconds), ...]."""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        parts = item.split(":")
        try:
            seconds = float(parts[-1])
        except ValueError:
            raise ValueError(f"sim://: script item {item!r} must end with :SECONDS") from None
        if not 0 < seconds <= 3600:
            raise ValueError(f"sim://: script item {item!r}: seconds outside 0..3600")
        head = parts[:-1]
        if len(head) == 1 and head[0] in ("hop_left", "hop_right"):
            out.append(("single_" + head[0][4:], "open", "firm", True, seconds))
            continue
        if not 1 <= len(head) <= 3 or (head[0] not in stance_marks.STANCES and not movements.is_movement(head[0])):
            raise ValueError(f"sim://: script item {item!r}; expected STANCE:EYES[:SURFACE]:SECONDS "
                             f"(stance one of {', '.join(stance_marks.STANCES)}) or hop_left/hop_right:SECONDS")
        eyes = head[1] if len(head) > 1 else "open"
        surface = head[2] if len(head) > 2 else "firm"
        if eyes not in EYES or surface not in SURFACES:
            raise ValueError(f"sim://: script item {item!r}: eyes open|closed, surface firm|foam")
        out.append((head[0], eyes, surface, False, seconds))
    if not out:
        raise ValueError("sim://: option script= is empty")
    return out


def parse_events(text: str) -> list[tuple[str, float, float | None]]:
    """``touchdown@5:0.5,stepoff@9`` -> [(kind, t_s, arg), ...]."""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        kind, _, rest = item.partition("@")
        t_txt, _, arg_txt = rest.partition(":")
        try:
            t = float(t_txt)
            arg = float(arg_txt) if arg_txt else None
        except ValueError:
            raise ValueError(f"sim://: event {item!r}; expected KIND@SECONDS[:VALUE]") from None
        if kind not in ("touchdown", "stepoff", "lean", "shift") or not (t >= 0):
            raise ValueError(f"sim://: event {item!r}; kinds: touchdown@T[:D], stepoff@T, lean@T:D, shift@T:DX")
        if kind in ("lean", "shift") and arg is None:
            raise ValueError(f"sim://: event {item!r} needs :VALUE")
        out.append((kind, t, arg))
    return out


def parse_loads(values: list[str]) -> list[tuple[float, float, float]]:
    """``["20@0,0", ...]`` -> [(mass_kg, x_mm, y_mm), ...]."""
    out = []
    for v in values:
        try:
            kg_txt, xy = v.split("@")
            x_txt, y_txt = xy.split(",")
            kg, x, y = float(kg_txt), float(x_txt), float(y_txt)
        except ValueError:
            raise ValueError(f"sim://: option load={v!r}; expected KG@X,Y (mm), e.g. 20@0,0") from None
        if not (0 <= kg <= 300 and abs(x) <= 250 and abs(y) <= 250):
            raise ValueError(f"sim://: option load={v!r}: mass 0..300 kg, position within +-250 mm")
        out.append((kg, x, y))
    return out


# ----------------------------------------------------------------------------- sway
class _SwayProcess:
    """Unit-SD COP sway along one axis, as a function of time on a fixed grid (stateful windows).

    COM = white noise through a second-order low-pass (neural noise bandwidth) and a damped second-order
    loop at f0; COP = COM - (h/g) COM''. Normalised to unit standard deviation.
    """

    def __init__(self, f0_hz: float, seed_seq: list[int], zeta: float = 0.35, noise_hz: float = 1.0,
                 band: bool = False):
        w0, wc = 2 * np.pi * f0_hz, 2 * np.pi * noise_hz
        k = COM_HEIGHT_M / G_M_S2
        if band:
            # the fast corrective component: white noise through a second-order band-pass at f0
            # (damping 0.5), no pendulum
            num = np.array([2 * 0.5 * w0, 0.0])
            den = np.array([1.0, 2 * 0.5 * w0, w0 ** 2])
        else:
            # the neural noise is band-limited by a second-order low-pass (muscle twitch dynamics)
            num = np.array([-k, 0.0, 1.0]) * (w0 ** 2) * wc ** 2
            den = np.polymul([1.0, 2 * zeta * w0, w0 ** 2], [1.0, 2 * wc, wc ** 2])
        b, a = signal.bilinear(num, den, GRID_HZ)
        imp = signal.lfilter(b, a, np.r_[1.0, np.zeros(int(GRID_HZ * 40))])
        self.b, self.a = b / np.sqrt(np.sum(imp ** 2)), a
        self.zi = np.zeros(max(len(a), len(b)) - 1)
        self.seed_seq = seed_seq
        self.windows: dict[int, np.ndarray] = {}
        self.next_window = 0
        # start in the stationary state: run a warm-up window through the filter first
        self._run(np.random.default_rng(seed_seq + [999_999]).standard_normal(int(GRID_HZ * 30)))

    def _run(self, w):
        y, self.zi = signal.lfilter(self.b, self.a, w, zi=self.zi)
        return y

    def _window(self, i: int) -> np.ndarray:
        while self.next_window <= i:
            n = int(GRID_HZ * WINDOW_S)
            w = np.random.default_rng(self.seed_seq + [self.next_window]).standard_normal(n)
            self.windows[self.next_window] = self._run(w)
            self.windows.pop(self.next_window - 3, None)   # requests only move forward
            self.next_window += 1
        return self.windows[i]

    def at(self, t_s: np.ndarray) -> np.ndarray:
        """Sway (unit SD) at times ``t_s`` (s, >= 0, from the start of this process)."""
        t = np.maximum(np.asarray(t_s, float), 0.0)
        if not len(t):
            return t
        pos = t * GRID_HZ
        i0 = int(pos[0] // (GRID_HZ * WINDOW_S))
        i1 = int(pos[-1] // (GRID_HZ * WINDOW_S)) + 1
        grid = np.concatenate([self._window(i) for i in range(i0, i1 + 1)])
        return np.interp(pos - i0 * GRID_HZ * WINDOW_S, np.arange(len(grid)), grid)


# ----------------------------------------------------------------------------- the person
@dataclass
class Person:
    mass_kg: float
    profile: str                     # healthy | cai | cai-demo
    injured: str
    amp: float                       # individual sway amplitude factor
    leg_factor: dict[str, float]     # natural left/right difference (healthy people have one)
    speed_factor: float
    effect: float = 0.0              # multiplier of the CAI effects (0 for a healthy person)
    severity: float = 1.0            # this person's CAI severity (mean 1 over people)
    touchdown_factor: float = 1.0    # this person's touch-down rate relative to the group's
    axis_factor: tuple[float, float] = (1.0, 1.0)   # own slow-sway amplitude, ML and AP
    uninjured_share: float = _CAI_UNINJURED_SHARE   # part of the effect on the other limb

    @property
    def unstable(self) -> bool:
        return self.profile != "healthy"

    def limb_share(self, side: str | None) -> float:
        """How much of the CAI effect applies to this limb (0 healthy, effect x severity on the
        injured limb, a part of that on the other)."""
        if not self.unstable or side is None:
            return 0.0
        share = 1.0 if side == self.injured else self.uninjured_share
        return self.effect * self.severity * share

    def cai_share(self, side: str | None, eyes: str) -> float:
        """How much of the CAI effect applies to a single-leg stance on ``side`` with ``eyes``."""
        return self.limb_share(side) * (1.0 if eyes == "closed" else _CAI_EYES_OPEN_SHARE)


class PersonSource:
    """Net force (N) and COP (mm) of a person following a timetable of segments."""

    def __init__(self, person: Person, segments: list[Segment], seed: int):
        self.p = person
        self.segments = segments
        self.seed = seed
        self._sway: dict[int, tuple] = {}

    # sway parameters of one segment: slow (sd_ml_mm, sd_ap_mm, f0_ml_hz, f0_ap_hz) and fast
    # (sd_ml_mm, sd_ap_mm, centre_hz)
    def sway_params(self, seg: Segment, trial_factor: float = 1.0):
        kind = "single" if seg.side else seg.stance
        sd_ml, sd_ap, f_ml, f_ap = _BASE[kind]
        fast_ml, fast_ap, f_fast = _FAST[kind]
        amp, freq = self.p.amp * trial_factor, self.p.speed_factor
        if seg.eyes == "closed":
            a, f = _EYES_CLOSED[kind]
            amp, freq = amp * a, freq * f
        if seg.surface == "foam":
            amp, freq = amp * _FOAM[0], freq * _FOAM[1]
        amp_ml = amp_ap = amp
        if seg.side:
            amp_ml *= self.p.leg_factor[seg.side]
            amp_ap *= self.p.leg_factor[seg.side]
            c = self.p.cai_share(seg.side, seg.eyes)
            freq *= np.exp(c * _CAI_LOG[2])
            # the fast corrections grow at most as much as in the most severe published-size
            # case (c <= 1.5): more (the demo athlete) reads as a touch-down to the board
            cf = min(c, _CAI_FAST_MAX_SHARE)
            fast = amp_ml * np.exp(cf * _CAI_LOG[3]), amp_ap * np.exp(cf * _CAI_LOG[3])
            amp_ml *= np.exp(c * _CAI_LOG[0]) * self.p.axis_factor[0]
            amp_ap *= np.exp(c * _CAI_LOG[1]) * self.p.axis_factor[1]
        else:
            if self.p.unstable:
                amp_ml *= 1.0 + 0.03 * self.p.effect
            fast = amp_ml, amp_ap
        # the fast component keeps its centre (the person's own) and grows in amplitude with the
        # frequency factor instead, so that its velocity scales like the slow one's
        speed = self.p.speed_factor
        return ((sd_ml * amp_ml, sd_ap * amp_ap, f_ml * freq, f_ap * freq),
                (fast_ml * fast[0] * freq / speed, fast_ap * fast[1] * freq / speed, f_fast * speed))

    def _processes(self, i: int, seg: Segment):
        if i not in self._sway:
            # each trial differs a little from the last (attention, fatigue): amplitude factor
            trial = float(np.exp(np.random.default_rng([self.seed, i, 4]).normal(0, _TRIAL_SIGMA)))
            (sd_ml, sd_ap, f_ml, f_ap), (fm, fa, ff) = self.sway_params(seg, trial)
            self._sway[i] = (_SwayProcess(f_ml, [self.seed, i, 1]), _SwayProcess(f_ap, [self.seed, i, 2]),
                             (sd_ml, sd_ap),
                             _SwayProcess(ff, [self.seed, i, 5], band=True),
                             _SwayProcess(ff, [self.seed, i, 6], band=True), (fm, fa))
            self._sway.pop(i - 2, None)
        return self._sway[i]

    def force_cop(self, t: np.ndarray):
        """(fz_n, cop_x_mm, cop_y_mm) at scene times ``t`` (s); fz 0 where nobody is on."""
        fz = np.zeros(len(t))
        x = np.zeros(len(t))
        y = np.zeros(len(t))
        for i, seg in enumerate(self.segments):
            sel = (t >= seg.start_s) & (t < seg.end_s + 1.0)
            if sel.any():
                fz[sel], x[sel], y[sel] = self._segment(i, seg, t[sel])
        return fz, x, y

    def _landing_kind(self, seg: Segment) -> str:
        return "cai" if self.p.unstable and seg.side == self.p.injured else "healthy"

    def _segment(self, i: int, seg: Segment, t_abs: np.ndarray):
        if movements.is_movement(seg.stance):       # squat, lunge, lean, sit-to-stand
            return movements.segment_force_cop(self, i, seg, t_abs, sway_for(self, i, seg))
        tt = t_abs - seg.start_s
        bw = self.p.mass_kg * G_M_S2
        marks = stance_marks.feet("tandem" if seg.stance == "tandem" else "bipedal")
        pl = np.array([marks["left"].centre_x_mm, marks["left"].centre_y_mm])
        pr = np.array([marks["right"].centre_x_mm, marks["right"].centre_y_mm])
        dur = seg.duration_s
        # weight share of each foot over time: piecewise-linear knots
        if seg.hop:
            side = seg.side
            land = 0.0
            on_l = (tt >= land).astype(float) if side == "left" else np.zeros_like(tt)
            on_r = (tt >= land).astype(float) if side == "right" else np.zeros_like(tt)
            settle_start = land
        else:
            # step on: right foot first, then the left; then (single leg) lift the free foot
            on_r = np.interp(tt, [0.0, 0.25, 0.45, 0.7], [0.0, 0.55, 0.55, 0.5])
            on_l = np.interp(tt, [0.25, 0.45, 0.7], [0.0, 0.35, 0.5])
            settle_start = 0.7
            if seg.side:
                lift = np.interp(tt, [1.2, 1.55], [0.0, 1.0])
                stand, free = (on_l, on_r) if seg.side == "left" else (on_r, on_l)
                stand += lift * (1.0 - stand)
                free *= 1.0 - lift
                settle_start = 1.55
        # the end: put the free foot down (single leg), then step off
        off_at = dur if seg.stepoff_s is None else min(dur, seg.stepoff_s - seg.start_s)
        if np.isfinite(off_at):
            leave = np.interp(tt, [off_at, off_at + 0.5], [1.0, 0.0])
            on_l, on_r = on_l * leave, on_r * leave
        # touch-downs of the free foot: it takes a share of the weight on its own mark
        if seg.side:
            td = np.zeros_like(tt)
            for t0, d in seg.touchdowns:
                t0 -= seg.start_s
                td = np.maximum(td, np.interp(tt, [t0, t0 + 0.08, t0 + d - 0.08, t0 + d], [0, 0.4, 0.4, 0]))
            if seg.side == "left":
                on_r = on_r + td * on_l
                on_l = on_l * (1 - td)
            else:
                on_l = on_l + td * on_r
                on_r = on_r * (1 - td)
        share = on_l + on_r
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(share > 0, (on_l * pl[0] + on_r * pr[0]) / share, 0.0)
            y = np.where(share > 0, (on_l * pl[1] + on_r * pr[1]) / share, 0.0)
        # sway, fading in after the stance is taken (and large right after a hop landing)
        ml, ap, (sd_ml, sd_ap), fml, fap, (fast_ml, fast_ap) = self._processes(i, seg)
        gate = _smooth((tt - settle_start) / 1.0)
        if seg.hop:
            tau = _LAND_TAU_S[self._landing_kind(seg)]
            gate = np.where(tt >= 0, 1.0 + 5.0 * np.exp(-np.maximum(tt, 0) / tau), 0.0)
        x = x + gate * (sd_ml * ml.at(tt) + fast_ml * fml.at(tt))
        y = y + gate * (sd_ap * ap.at(tt) + fast_ap * fap.at(tt))
        for t0, d in seg.leans:
            t0 -= seg.start_s
            y = y + 60.0 * np.interp(tt, [t0, t0 + 0.4, t0 + d, t0 + d + 0.4], [0, 1, 1, 0])
        for t0, dx in seg.shifts:
            x = x + dx * _smooth((tt - (t0 - seg.start_s)) / 0.4)
        # vertical force: weight plus the bounce of stepping on and a little breathing/noise
        fz = bw * share
        bounce = np.where(tt >= settle_start, np.exp(-(tt - settle_start) / 0.3)
                          * np.sin(2 * np.pi * 2.5 * (tt - settle_start)), 0.0)
        fz = fz + 0.06 * bw * bounce * share
        if seg.hop:
            s = np.maximum(tt, 0.0)
            impact = 2.2 * (s / 0.035) * np.exp(1 - s / 0.035)     # peak ~3.2 BW at 35 ms
            tau = _LAND_TAU_S[self._landing_kind(seg)]
            ring = 0.45 * np.exp(-s / tau) * np.sin(2 * np.pi * 1.8 * s)
            fz = fz + bw * share * (impact + ring)
        fz = fz + 0.004 * bw * share * ml.at(tt + 3.7)             # breathing and the heartbeat, roughly
        return np.maximum(fz, 0.0), x, y


# ----------------------------------------------------------------------------- replay
STEP_RAMP_S = 0.3


class ReplaySource:
    """A recorded trace played back: net force and COP at scene times."""

    def __init__(self, path: str, start_s: float, mass_kg: float, loop: bool):
        from rig.io.traces import read_trace

        tr = read_trace(path)
        t = tr.t_s - tr.t_s[0]
        ok = np.isfinite(tr.cop_x_mm) & np.isfinite(tr.cop_y_mm)
        if ok.sum() < 2:
            raise ValueError(f"sim://: replay file {path} has no COP samples")
        self.t, self.x, self.y = t[ok], tr.cop_x_mm[ok], tr.cop_y_mm[ok]
        # a plate's own origin is not our board's centre: centre the recording on the board
        self.x = self.x - np.median(self.x)
        self.y = self.y - np.median(self.y)
        self.fz = tr.fz_n[ok] if tr.fz_n is not None else np.full(len(self.t), mass_kg * G_M_S2)
        self.start_s, self.loop = start_s, loop
        self.length_s = float(self.t[-1]) + float(np.median(np.diff(self.t)))

    def force_cop(self, t: np.ndarray):
        r = t - self.start_s
        if self.loop:
            r = np.where(r >= 0, np.mod(r, self.length_s), r)
        on = (r >= 0) & (r <= self.t[-1])
        # stepping on and off takes a moment: the load ramps over STEP_RAMP_S at both ends (an
        # instantaneous step is unphysical, and four free-running ADCs never sample it together)
        ramp = np.clip(np.minimum(r, self.t[-1] - r) / STEP_RAMP_S, 0.0, 1.0)
        fz = np.where(on, np.interp(r, self.t, self.fz) * ramp, 0.0)
        return fz, np.interp(r, self.t, self.x), np.interp(r, self.t, self.y)


# ----------------------------------------------------------------------------- the scene
class Scene(SceneClock):
    """Everything on the board; ``forces_n(t_s)`` -> (n, 4) cell forces (N)."""

    def __init__(self, positions_mm, loads, sources):
        self.positions_mm = np.asarray(positions_mm, float)
        self.loads = loads
        self.sources = sources
        self.static_n = np.zeros(4)
        for kg, x, y in loads:
            self.static_n += distribute(np.array([kg * G_M_S2]), np.array([x]), np.array([y]),
                                        self.positions_mm)[0]

    def forces_n(self, t_s) -> np.ndarray:
        t = self.scene_time(t_s)
        out = np.tile(self.static_n, (len(t), 1))
        for src in self.sources:
            fz, x, y = src.force_cop(t)
            out += distribute(fz, x, y, self.positions_mm)
        return out


def static_load_forces(loads, positions_mm) -> np.ndarray:
    """Cell forces (4,) of static masses [(kg, x_mm, y_mm), ...] (exact, for tests)."""
    return Scene(positions_mm, loads, []).static_n.copy()


def _person(opts, rng) -> Person:
    mass = _num(opts, "mass_kg", round(float(rng.uniform(55, 95)), 1), 20, 250)
    profile = _choice(opts, "profile", PROFILES, "healthy")
    injured = _choice(opts, "injured", SIDES, "left")
    amp = float(np.exp(rng.normal(0, _PERSON_AMP_SIGMA))) * _num(opts, "sway", 1.0, 0.0, 20.0)
    legs = np.exp(rng.normal(0, _LEG_SIGMA, 2))
    speed = float(np.exp(rng.normal(0, _PERSON_SPEED_SIGMA)))
    severity = float(rng.uniform(0.5, 1.5))
    touchdown = float(rng.gamma(_TOUCHDOWN_SHAPE, 1.0 / _TOUCHDOWN_SHAPE))
    axes = np.exp(rng.normal(0, 1, 2) * np.asarray(_AXIS_SIGMA))
    default_effect = {"healthy": 0.0, "cai": 1.0, "cai-demo": DEMO_EFFECT}[profile]
    effect = _num(opts, "effect", default_effect, 0.0, 10.0) if profile != "healthy" else 0.0
    return Person(mass, profile, injured, amp, {"left": float(legs[0]), "right": float(legs[1])},
                  speed, effect, severity, touchdown, (float(axes[0]), float(axes[1])),
                  0.0 if profile == "cai-demo" else _CAI_UNINJURED_SHARE)


def touchdown_rate_per_s(person: Person, side: str, eyes: str) -> float:
    """Expected touch-downs of the free foot per second of single-leg stance on ``side``."""
    healthy = _TOUCHDOWN_RATE[("healthy", eyes)]
    cai = _TOUCHDOWN_RATE[("cai", eyes)]
    # the CAI excess grows with the limb's share of the effect (log-linear between the two rates),
    # at most the published-size excess, even for the demonstration athlete (more would make
    # most eyes-closed trials end in a touch-down)
    share = min(person.limb_share(side), _TOUCHDOWN_MAX_SHARE)
    return person.touchdown_factor * healthy * (cai / healthy) ** share


def _timetable(opts, rng, person: Person) -> list[Segment]:
    on_s = _num(opts, "on_s", 1.5, 0.0, 1e6)
    rest_s = _num(opts, "rest_s", 6.0, 0.5, 3600)
    eyes = _choice(opts, "eyes", EYES, "open")
    surface = _choice(opts, "surface", SURFACES, "firm")
    stance = _choice(opts, "stance", stance_marks.STANCES, "bipedal")
    segments: list[Segment] = []
    if "script" in opts:
        t = on_s
        for st, ey, su, hop, secs in parse_script(opts["script"][-1]):
            segments.append(Segment(t, secs, st, ey, su, hop))
            t += secs + rest_s + float(rng.uniform(0.0, 0.5))
    else:
        off_s = _num(opts, "off_s", None, 0.0, 1e6) if "off_s" in opts else None
        dur = np.inf if off_s is None else max(off_s - on_s, 0.0)
        segments.append(Segment(on_s, dur, stance, eyes, surface))
    # spontaneous touch-downs of the free foot (Poisson, rates by profile, side and vision)
    for seg in segments:
        if not seg.side or seg.hop:
            continue
        rate = touchdown_rate_per_s(person, seg.side, seg.eyes)
        # not before the stance is taken and held (~4.5 s in: stepping on, lifting the foot)
        span = min(seg.duration_s, 3600.0) - 5.5
        if rate > 0 and span > 0:
            n = rng.poisson(rate * span)
            for t0 in np.sort(rng.uniform(4.5, 4.5 + span, n)):
                seg.touchdowns.append((seg.start_s + float(t0), float(rng.uniform(0.3, 0.9))))
    for kind, t, arg in parse_events(opts["events"][-1]) if "events" in opts else []:
        seg = next((s for s in segments if s.start_s <= t < s.end_s), None)
        if seg is None:
            raise ValueError(f"sim://: event {kind}@{t:g} falls when nobody is on the board")
        if kind == "touchdown":
            if not seg.side:
                raise ValueError(f"sim://: event touchdown@{t:g} needs a single-leg stance")
            seg.touchdowns.append((t, arg if arg else 0.6))
        elif kind == "stepoff":
            seg.stepoff_s = t
        elif kind == "lean":
            seg.leans.append((t, arg))
        else:
            seg.shifts.append((t, arg))
    return segments


def build_scene(opts: dict[str, list[str]], rng: np.random.Generator, positions_mm) -> Scene:
    """The world on the board for ``sim://`` options ``opts`` (dict of lists, as parse_qs)."""
    loads = parse_loads(opts.get("load", []))
    sources = []
    seed = int(rng.integers(0, 2 ** 31))
    person = _person(opts, rng)
    if "replay" in opts:
        sources.append(ReplaySource(opts["replay"][-1], _num(opts, "on_s", 1.5, 0.0, 1e6),
                                    person.mass_kg, opts.get("loop", ["0"])[-1] == "1"))
    want_person = _choice(opts, "person", ("0", "1"), "0" if "replay" in opts else "1") == "1"
    if want_person:
        sources.append(PersonSource(person, _timetable(opts, rng, person), seed))
        sources[-1].movement = movements.Options(opts)
    elif "script" in opts or "events" in opts:
        raise ValueError("sim://: script= and events= need a person on the board (person=1)")
    scene = Scene(positions_mm, loads, sources)
    scene.person = person if want_person else None
    return scene


def sway_for(src, i: int, seg):
    """Bipedal quiet-stance sway (mm) for movement segment ``i``: the scene's sway process at its
    bipedal eyes-open amplitude, so the movements carry the same postural noise."""
    cache = src.__dict__.setdefault("_movement_sway", {})
    if i not in cache:
        sd_ml, sd_ap, f_ml, f_ap = _BASE["bipedal"]
        cache.clear()
        cache[i] = (_SwayProcess(f_ml, [src.seed, i, 11]), _SwayProcess(f_ap, [src.seed, i, 12]),
                    sd_ml * src.p.amp, sd_ap * src.p.amp)
    ml, ap, a_ml, a_ap = cache[i]
    return lambda tt: (a_ml * ml.at(tt), a_ap * ap.at(tt))
