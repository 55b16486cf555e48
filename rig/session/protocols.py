"""Protocols as data: ``protocols/*.toml`` loaded and validated (schema: protocols/SCHEMA.md).

Every error names the file, the key and what was expected, in one line. Thresholds and
decision rules live in the files, not here: this module only checks and carries them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from rig import paths
from rig.errors import ProtocolFileError, RigError
from rig.engine.stance import STANCES

EYES = ("open", "closed")
SURFACES = ("firm", "foam")
KINDS = ("static", "landing")
MOVEMENT_KINDS = ("squat", "lunge", "lean", "sit_to_stand")   # chain tests (rig.session.movement_trials)
# chain-test settings (``[chain]``, also allowed in ``[demo]``): name -> (type, lowest value)
CHAIN_KEYS = {"repetitions": (int, 1), "depth_window_s": (float, 0.05), "heel_lift_fraction": (float, 0.3),
              "heel_lift_min_s": (float, 0.0), "min_weight_fraction": (float, 0.0), "mdc_cm": (float, 0.0),
              "mdc_reference": (str, None), "target_s": (float, 2.0), "target_pct": (float, 10.0),
              "target_radius_mm": (float, 1.0), "cue_delay_s": (float, 0.5), "min_reps": (int, 0)}
MOVED_TO_PUBLISHED = ("cait_cutoff", "cait_reference", "cait_bands", "history_reference",
                      "lunge_asymmetry_cm", "lunge_reference")
#: The measures shown, in this order, where a protocol names none (its ``measures`` list): the
#: results printed after ``rig run``, the report, the baseline comparison (store, exports). The
#: CAI set first (science.md §0 and §2.1-2.3: eyes-closed COP ML SD and time-to-boundary, ML %
#: of foot width; McKeon & Hertel 2008, Knapp 2011), then the general sway set, then the
#: foot-lift and landing measures (shown only where a trial has them).
KEY_MEASURES = (
    "sd_ml_mm", "mean_velocity_mm_s", "ellipse95_area_mm2", "ttb_mean_min_ml_s",
    "sd_ap_mm", "ttb_mean_min_ap_s", "ttb_min_ml_s", "ml_percent_foot_width_used",
    "touchdowns", "time_in_balance_s", "path_length_mm", "rms_distance_mm", "mean_frequency_hz",
    "time_to_stabilization_vertical_s", "vertical_stability_index",
)
#: ``rig history`` and the progress plot: the first key measures (one column or panel per leg
#: each, so few).
OVER_TIME_MEASURES = KEY_MEASURES[:4]
TRIAL_KEYS = ("trial_duration_s", "trials", "practice_trials", "rest_s", "countdown_s", "lead_in_s")
# Physical ranges of every number a protocol file may hold (key: (type, lowest, highest)), stated
# in protocols/SCHEMA.md. They bound a session's length (a clinic sitting, not a night) and keep
# filters and rules meaningful; a value outside is a broken file, not a setting.
TRIAL_RANGES = {
    "trial_duration_s": (float, 1.0, 600.0),
    "trials": (int, 1, 20),
    "practice_trials": (int, 0, 10),
    "rest_s": (float, 0.0, 600.0),
    "countdown_s": (float, 0.0, 60.0),
    "lead_in_s": (float, 0.0, 60.0),
}
DEFAULT_RANGES = {"min_rate_hz": (float, 0.0, 100_000.0), "lowpass_hz": (float, 0.1, 500.0)}
VALIDITY_RANGES = {
    "stepped_off_fraction": (float, 0.0, 1.0),
    "stepped_off_s": (float, 0.0, 60.0),
    "max_touchdowns": (int, 0, 100),
    "weight_tolerance": (float, 0.0, 1.0),
    "max_outside_foot_fraction": (float, 0.0, 1.0),
    "foot_margin_mm": (float, 0.0, 100.0),
    "max_lost_fraction": (float, 0.0, 1.0),
    "error_candidates": (bool, None, None),
}
MAX_CONDITIONS = 50
CONDITION_KEYS = ("name", "stance", "eyes", "surface", "kind") + TRIAL_KEYS
DEFAULT_KEYS = TRIAL_KEYS + ("min_rate_hz", "min_rate_reason", "lowpass_hz")
SCREENING_KEYS = ("condition_eyes", "cait_cutoff", "cait_reference", "cait_bands", "history_reference",
                  "balance", "lunge_asymmetry_cm", "lunge_reference")


class ProtocolRefused(RigError):
    """The protocol cannot run on this board (e.g. its sample rate is too low)."""


@dataclass(frozen=True)
class Condition:
    name: str
    stance: str
    eyes: str
    surface: str
    kind: str
    trial_duration_s: float
    trials: int
    practice_trials: int
    rest_s: float
    countdown_s: float
    lead_in_s: float

    @property
    def side(self) -> str | None:
        """The stance leg of a single-leg condition (left/right), else None."""
        return self.stance[len("single_"):] if self.stance.startswith("single_") else None

    @property
    def label(self) -> str:
        st = {"bipedal": "Bipedal", "tandem": "Tandem", "single_left": "Single leg, left",
              "single_right": "Single leg, right"}[self.stance]
        if self.kind in MOVEMENT_KINDS:
            return {"squat": "Squat", "lunge": "Knee-to-wall lunge", "lean": "Limits of stability",
                    "sit_to_stand": "Five-times sit-to-stand"}[self.kind] + (f", {self.side}" if self.side else "")
        kind = ", landing" if self.kind == "landing" else ""
        return f"{st}, eyes {self.eyes}, {self.surface}{kind}"


@dataclass(frozen=True)
class Validity:
    """Rules a trial must meet (see rig.engine.validity); None = the rule is not applied."""

    stepped_off_fraction: float = 0.5
    stepped_off_s: float = 0.3
    max_touchdowns: int | None = None
    weight_tolerance: float | None = None
    max_outside_foot_fraction: float | None = None
    foot_margin_mm: float = 10.0
    max_lost_fraction: float | None = 0.01
    error_candidates: bool = False


@dataclass(frozen=True)
class BalanceRule:
    measure: str
    worse: str            # "lower" or "higher"
    reference: str
    mdc_pct: float | None = None   # None: rig.engine.mdc's value for the measure


@dataclass(frozen=True)
class Screening:
    """Which trials and measures feed the screen's balance statement. Cut-offs, likelihood
    ratios and MDC defaults are published figures: rig.published.screening."""

    condition_eyes: str
    balance: tuple[BalanceRule, ...]


@dataclass(frozen=True)
class Protocol:
    name: str
    version: str
    title: str
    description: str
    references: tuple[str, ...]
    measures: tuple[str, ...]
    conditions: tuple[Condition, ...]
    min_rate_hz: float
    min_rate_reason: str
    lowpass_hz: float | None
    validity: Validity
    screening: Screening | None
    path: str
    sha256: str
    demo_overrides: dict = field(default_factory=dict)
    demo_note: str = ""
    demo: bool = False
    side: str | None = None
    chain: dict = field(default_factory=dict)      # ``[chain]``: settings of the chain tests

    def for_demo(self) -> "Protocol":
        """The ``[demo]`` settings applied (shorter, fewer trials): results say so."""
        over = {k: v for k, v in self.demo_overrides.items() if k in TRIAL_KEYS}
        chain = {**self.chain, **{k: v for k, v in self.demo_overrides.items() if k in CHAIN_KEYS}}
        return replace(self, conditions=tuple(replace(c, **over) for c in self.conditions), demo=True,
                       chain=chain)

    def with_side(self, side: str) -> "Protocol":
        """Single-leg conditions on ``side`` (BESS: the non-dominant foot)."""
        if side not in ("left", "right"):
            raise RigError(f"side must be left or right, got {side!r}")
        conds = tuple(replace(c, stance=f"single_{side}") if c.side else c for c in self.conditions)
        return replace(self, conditions=conds, side=side)

    def as_dict(self) -> dict:
        """What a session stores about its protocol."""
        return {"name": self.name, "version": self.version, "title": self.title, "sha256": self.sha256,
                "params": {"demo": self.demo, "demo_note": self.demo_note if self.demo else "",
                           "side": self.side, "min_rate_hz": self.min_rate_hz, "lowpass_hz": self.lowpass_hz,
                           "conditions": [dataclasses.asdict(c) for c in self.conditions],
                           "validity": dataclasses.asdict(self.validity), "path": self.path,
                           **({"chain": dict(self.chain)} if self.chain else {})}}

    @staticmethod
    def condition_dict(c: Condition) -> dict:
        # a movement trial is stored under its movement (squat, lunge, ...), not its foot marks
        return {"name": c.name, "stance": c.kind if c.kind in MOVEMENT_KINDS else c.stance,
                "eyes": c.eyes, "surface": c.surface,
                "side": c.side, "kind": c.kind}

    def check_rate(self, rate_hz: float) -> None:
        if rate_hz < self.min_rate_hz:
            why = f": {self.min_rate_reason}" if self.min_rate_reason else ""
            raise ProtocolRefused(f"{self.name} needs a board sampling at >= {self.min_rate_hz:g} Hz; "
                                  f"this board samples at {rate_hz:g} Hz{why}")
        if self.lowpass_hz is not None and self.lowpass_hz >= rate_hz / 2:
            raise ProtocolRefused(f"{self.name}: its low-pass filter ({self.lowpass_hz:g} Hz) must be below half "
                                  f"the board's sampling rate ({rate_hz:g} Hz / 2 = {rate_hz / 2:g} Hz, Nyquist)")


# ----------------------------------------------------------------------------- loading
def protocols_dir() -> Path:
    return paths.shipped_dir("protocols")


def list_protocols() -> list[Protocol]:
    return [load_protocol(p) for p in sorted(protocols_dir().glob("*.toml"))]


def load_protocol(name_or_path) -> Protocol:
    """A protocol by name (``protocols/<name>.toml``) or by path; ProtocolFileError if broken."""
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = protocols_dir() / f"{name_or_path}.toml"
        if not p.exists():
            known = ", ".join(sorted(q.stem for q in protocols_dir().glob("*.toml")))
            raise ProtocolFileError(f"no protocol named {name_or_path!r} (known: {known}; or give a .toml path)")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ProtocolFileError(f"{p}: cannot read ({e.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ProtocolFileError(f"{p}: not valid TOML ({e})") from None
    except RecursionError:
        raise ProtocolFileError(f"{p}: not valid TOML (nested too deeply)") from None
    return _Parser(str(p), data).protocol(hashlib.sha256(raw).hexdigest())


class _Parser:
    def __init__(self, path: str, data: dict):
        self.path, self.data = path, data

    def err(self, key: str, what: str):
        return ProtocolFileError(f"{self.path}: key {key}: {what}")

    def get(self, table: dict, key: str, where: str, typ, default=..., choices=None, lo=None, hi=None):
        full = f"{where}.{key}" if where else key
        if key not in table:
            if default is ...:
                raise self.err(full, "missing")
            return default
        v = table[key]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if typ is int and isinstance(v, bool) or not isinstance(v, typ):
            raise self.err(full, f"expected {_typename(typ)}, got {v!r}")
        if choices is not None and v not in choices:
            raise self.err(full, f"expected one of {', '.join(choices)}, got {v!r}")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not math.isfinite(v):
                raise self.err(full, f"expected a finite number, got {v!r}")
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise self.err(full, f"expected {_typename(typ)} {_range(lo, hi)}, got {v!r}")
        return v

    def known(self, table: dict, where: str, keys) -> None:
        """Unknown keys are errors: a misspelt ``surfce`` must not silently run on the default."""
        for k in table:
            if k not in keys:
                raise self.err(f"{where}.{k}" if where else k,
                               f"unknown key (expected one of {', '.join(keys)})")

    def ranged(self, table: dict, key: str, where: str, ranges: dict, default=...):
        typ, lo, hi = ranges[key]
        return self.get(table, key, where, typ, default, lo=lo, hi=hi)

    def protocol(self, sha: str) -> Protocol:
        d = self.data
        known = {"name", "version", "title", "description", "references", "measures", "side",
                 "defaults", "conditions", "validity", "demo", "screening", "chain"}
        for k in d:
            if k not in known:
                raise self.err(k, f"unknown key (expected one of {', '.join(sorted(known))})")
        name = self.get(d, "name", "", str)
        defaults = self.get(d, "defaults", "", dict, {})
        self.known(defaults, "defaults", DEFAULT_KEYS)
        trial_defaults = self._trial_params(defaults, "defaults", {})
        conds_raw = self.get(d, "conditions", "", list)
        if not conds_raw:
            raise self.err("conditions", "expected at least one [[conditions]] table")
        if len(conds_raw) > MAX_CONDITIONS:
            raise self.err("conditions", f"expected at most {MAX_CONDITIONS} conditions, got {len(conds_raw)}")
        conditions = []
        for i, c in enumerate(conds_raw):
            where = f"conditions[{i}]"
            if not isinstance(c, dict):
                raise self.err(where, "expected a table")
            self.known(c, where, CONDITION_KEYS)
            conditions.append(Condition(
                name=self.get(c, "name", where, str),
                stance=self.get(c, "stance", where, str, choices=STANCES),
                eyes=self.get(c, "eyes", where, str, "open", choices=EYES),
                surface=self.get(c, "surface", where, str, "firm", choices=SURFACES),
                kind=self.get(c, "kind", where, str, "static", choices=KINDS + MOVEMENT_KINDS),
                **self._trial_params(c, where, trial_defaults)))
        names = [c.name for c in conditions]
        if len(set(names)) != len(names):
            raise self.err("conditions", f"condition names must be unique, got {names}")
        measures = self.get(d, "measures", "", list, [])
        from rig.engine.sway import MEASURES

        for i, m in enumerate(measures):
            if m not in MEASURES:
                raise self.err(f"measures[{i}]", f"unknown measure {m!r} (see rig.engine.sway.MEASURES)")
        demo = self.get(d, "demo", "", dict, {})
        self._trial_params(demo, "demo", trial_defaults)       # validates the overrides
        for k in demo:
            if k not in TRIAL_KEYS and k != "note" and k not in CHAIN_KEYS:
                raise self.err(f"demo.{k}", f"unknown key (expected {', '.join(TRIAL_KEYS)}, note, "
                                            f"or a [chain] key)")
        self._chain(demo, "demo", only_known=False)
        side = self.get(d, "side", "", str, None, choices=("left", "right"))
        p = Protocol(
            name=name, version=str(self.get(d, "version", "", str)), title=self.get(d, "title", "", str),
            description=self.get(d, "description", "", str, ""),
            references=tuple(self._strings(d, "references")), measures=tuple(measures),
            conditions=tuple(conditions),
            min_rate_hz=self.ranged(defaults, "min_rate_hz", "defaults", DEFAULT_RANGES, 0.0),
            min_rate_reason=self.get(defaults, "min_rate_reason", "defaults", str, ""),
            lowpass_hz=self._lowpass(defaults),
            validity=self._validity(self.get(d, "validity", "", dict, {})),
            screening=self._screening(d["screening"]) if "screening" in d else None,
            path=self.path, sha256=sha, demo_overrides=dict(demo),
            demo_note=self.get(demo, "note", "demo", str, ""), side=side,
            chain=self._chain(self.get(d, "chain", "", dict, {}), "chain"))
        return p.with_side(side) if side else p

    def _lowpass(self, defaults: dict) -> float:
        """The low-pass cut-off; below Nyquist of the slowest board the protocol accepts."""
        lp = self.ranged(defaults, "lowpass_hz", "defaults", DEFAULT_RANGES, 10.0)
        rate = self.ranged(defaults, "min_rate_hz", "defaults", DEFAULT_RANGES, 0.0)
        if rate > 0 and lp >= rate / 2:
            raise self.err("defaults.lowpass_hz", f"expected a cut-off below half of min_rate_hz "
                                                  f"({rate:g} Hz / 2 = {rate / 2:g} Hz, Nyquist), got {lp!r}")
        return lp

    def _trial_params(self, t: dict, where: str, base: dict) -> dict:
        out = dict(base)
        for key in TRIAL_KEYS:
            if key in t or key not in base:
                out[key] = self.ranged(t, key, where, TRIAL_RANGES, base.get(key, ...))
        return out

    def _chain(self, t: dict, where: str, only_known: bool = True) -> dict:
        out = {}
        for k, v in t.items():
            if k not in CHAIN_KEYS:
                if only_known:
                    raise self.err(f"{where}.{k}", f"unknown key (expected one of {', '.join(CHAIN_KEYS)})")
                continue
            typ, lo = CHAIN_KEYS[k]
            out[k] = self.get(t, k, where, typ, lo=lo)
        return out

    def _strings(self, d, key):
        v = self.get(d, key, "", list, [])
        for i, s in enumerate(v):
            if not isinstance(s, str):
                raise self.err(f"{key}[{i}]", f"expected a string, got {s!r}")
        return v

    def _validity(self, v: dict) -> Validity:
        fields = {f.name: f for f in dataclasses.fields(Validity)}
        for k in v:
            if k not in fields:
                raise self.err(f"validity.{k}", f"unknown rule (expected one of {', '.join(fields)})")
        kw = {k: self.ranged(v, k, "validity", VALIDITY_RANGES) for k in VALIDITY_RANGES if k in v}
        return Validity(**kw)

    def _screening(self, s) -> Screening:
        if not isinstance(s, dict):
            raise self.err("screening", "expected a table")
        for k in s:
            if k in MOVED_TO_PUBLISHED:
                raise self.err(f"screening.{k}", "published cut-offs now live in "
                                                 "rig/published/screening.py; remove this key")
            if k not in ("condition_eyes", "balance"):
                raise self.err(f"screening.{k}", "unknown key (expected condition_eyes, balance)")
        rules = []
        for i, b in enumerate(self.get(s, "balance", "screening", list)):
            w = f"screening.balance[{i}]"
            from rig.engine.sway import MEASURES

            if not isinstance(b, dict):
                raise self.err(w, "expected a table {measure, worse, reference, mdc_pct}")
            self.known(b, w, ("measure", "worse", "reference", "mdc_pct"))
            m = self.get(b, "measure", w, str)
            if m not in MEASURES:
                raise self.err(f"{w}.measure", f"unknown measure {m!r} (see rig.engine.sway.MEASURES)")
            rules.append(BalanceRule(m, self.get(b, "worse", w, str, choices=("lower", "higher")),
                                     self.get(b, "reference", w, str),
                                     self.get(b, "mdc_pct", w, float, None, lo=0.0, hi=1000.0)))
        return Screening(
            condition_eyes=self.get(s, "condition_eyes", "screening", str, "closed", choices=EYES),
            balance=tuple(rules))


def _typename(typ) -> str:
    if isinstance(typ, tuple):
        return " or ".join(_typename(t) for t in typ)
    return {str: "a string", float: "a number", int: "an integer", bool: "true or false",
            list: "a list", dict: "a table"}.get(typ, typ.__name__)


def _range(lo, hi) -> str:
    """Plain words for a range: 'between 0 and 30', 'of at least 1', 'of at most 5'."""
    if lo is not None and hi is not None:
        return f"between {lo:g} and {hi:g}"
    return f"of at least {lo:g}" if lo is not None else f"of at most {hi:g}"
