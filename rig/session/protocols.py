"""Protocols as data: ``protocols/*.toml`` loaded and validated (schema: protocols/SCHEMA.md).

Every error names the file, the key and what was expected, in one line. Thresholds and
decision rules live in the files, not here: this module only checks and carries them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from rig import paths
from rig.errors import ProtocolFileError, RigError
from rig.engine.stance import STANCES

EYES = ("open", "closed")
SURFACES = ("firm", "foam")
KINDS = ("static", "landing")
MOVED_TO_PUBLISHED = ("cait_cutoff", "cait_reference", "cait_bands", "history_reference",
                      "lunge_asymmetry_cm", "lunge_reference")
TRIAL_KEYS = ("trial_duration_s", "trials", "practice_trials", "rest_s", "countdown_s", "lead_in_s")


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

    def for_demo(self) -> "Protocol":
        """The ``[demo]`` settings applied (shorter, fewer trials): results say so."""
        over = {k: v for k, v in self.demo_overrides.items() if k in TRIAL_KEYS}
        return replace(self, conditions=tuple(replace(c, **over) for c in self.conditions), demo=True)

    def with_side(self, side: str) -> "Protocol":
        """Single-leg conditions on ``side`` (BESS: the non-dominant foot)."""
        if side not in ("left", "right"):
            raise RigError(f"side must be left or right, got {side!r}")
        conds = tuple(replace(c, stance=f"single_{side}") if c.side else c for c in self.conditions)
        return replace(self, conditions=conds, side=side)

    def as_dict(self) -> dict:
        """What a session stores about its protocol."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "params": {"demo": self.demo, "demo_note": self.demo_note if self.demo else "",
                           "side": self.side, "min_rate_hz": self.min_rate_hz, "lowpass_hz": self.lowpass_hz,
                           "conditions": [dataclasses.asdict(c) for c in self.conditions],
                           "validity": dataclasses.asdict(self.validity), "path": self.path}}

    @staticmethod
    def condition_dict(c: Condition) -> dict:
        return {"name": c.name, "stance": c.stance, "eyes": c.eyes, "surface": c.surface,
                "side": c.side, "kind": c.kind}

    def check_rate(self, rate_hz: float) -> None:
        if rate_hz < self.min_rate_hz:
            why = f": {self.min_rate_reason}" if self.min_rate_reason else ""
            raise ProtocolRefused(f"{self.name} needs a board sampling at >= {self.min_rate_hz:g} Hz; "
                                  f"this board samples at {rate_hz:g} Hz{why}")


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
    return _Parser(str(p), data).protocol(hashlib.sha256(raw).hexdigest())


class _Parser:
    def __init__(self, path: str, data: dict):
        self.path, self.data = path, data

    def err(self, key: str, what: str):
        return ProtocolFileError(f"{self.path}: key {key}: {what}")

    def get(self, table: dict, key: str, where: str, typ, default=..., choices=None, lo=None):
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
        if lo is not None and v < lo:
            raise self.err(full, f"expected >= {lo}, got {v!r}")
        return v

    def protocol(self, sha: str) -> Protocol:
        d = self.data
        known = {"name", "version", "title", "description", "references", "measures", "side",
                 "defaults", "conditions", "validity", "demo", "screening"}
        for k in d:
            if k not in known:
                raise self.err(k, f"unknown key (expected one of {', '.join(sorted(known))})")
        name = self.get(d, "name", "", str)
        defaults = self.get(d, "defaults", "", dict, {})
        trial_defaults = self._trial_params(defaults, "defaults", {})
        conds_raw = self.get(d, "conditions", "", list)
        if not conds_raw:
            raise self.err("conditions", "expected at least one [[conditions]] table")
        conditions = []
        for i, c in enumerate(conds_raw):
            where = f"conditions[{i}]"
            if not isinstance(c, dict):
                raise self.err(where, "expected a table")
            conditions.append(Condition(
                name=self.get(c, "name", where, str),
                stance=self.get(c, "stance", where, str, choices=STANCES),
                eyes=self.get(c, "eyes", where, str, "open", choices=EYES),
                surface=self.get(c, "surface", where, str, "firm", choices=SURFACES),
                kind=self.get(c, "kind", where, str, "static", choices=KINDS),
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
            if k not in TRIAL_KEYS and k != "note":
                raise self.err(f"demo.{k}", f"unknown key (expected {', '.join(TRIAL_KEYS)}, note)")
        side = self.get(d, "side", "", str, None, choices=("left", "right"))
        p = Protocol(
            name=name, version=str(self.get(d, "version", "", str)), title=self.get(d, "title", "", str),
            description=self.get(d, "description", "", str, ""),
            references=tuple(self._strings(d, "references")), measures=tuple(measures),
            conditions=tuple(conditions),
            min_rate_hz=self.get(defaults, "min_rate_hz", "defaults", float, 0.0, lo=0.0),
            min_rate_reason=self.get(defaults, "min_rate_reason", "defaults", str, ""),
            lowpass_hz=self.get(defaults, "lowpass_hz", "defaults", float, 10.0, lo=0.1),
            validity=self._validity(self.get(d, "validity", "", dict, {})),
            screening=self._screening(d["screening"]) if "screening" in d else None,
            path=self.path, sha256=sha, demo_overrides=dict(demo),
            demo_note=self.get(demo, "note", "demo", str, ""), side=side)
        return p.with_side(side) if side else p

    def _trial_params(self, t: dict, where: str, base: dict) -> dict:
        out = dict(base)
        for key, typ, lo in (("trial_duration_s", float, 1.0), ("trials", int, 1), ("practice_trials", int, 0),
                             ("rest_s", float, 0.0), ("countdown_s", float, 0.0), ("lead_in_s", float, 0.0)):
            if key in t or key not in base:
                out[key] = self.get(t, key, where, typ, base.get(key, ...), lo=lo)
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
        kw = {}
        for k, typ in (("stepped_off_fraction", float), ("stepped_off_s", float), ("max_touchdowns", int),
                       ("weight_tolerance", float), ("max_outside_foot_fraction", float),
                       ("foot_margin_mm", float), ("max_lost_fraction", float), ("error_candidates", bool)):
            if k in v:
                kw[k] = self.get(v, k, "validity", typ, lo=None if typ is bool else 0)
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

            m = self.get(b, "measure", w, str)
            if m not in MEASURES:
                raise self.err(f"{w}.measure", f"unknown measure {m!r} (see rig.engine.sway.MEASURES)")
            rules.append(BalanceRule(m, self.get(b, "worse", w, str, choices=("lower", "higher")),
                                     self.get(b, "reference", w, str),
                                     self.get(b, "mdc_pct", w, float, None, lo=0.0)))
        return Screening(
            condition_eyes=self.get(s, "condition_eyes", "screening", str, "closed", choices=EYES),
            balance=tuple(rules))


def _typename(typ) -> str:
    if isinstance(typ, tuple):
        return " or ".join(_typename(t) for t in typ)
    return {str: "a string", float: "a number", int: "an integer", bool: "true or false",
            list: "a list", dict: "a table"}.get(typ, typ.__name__)
