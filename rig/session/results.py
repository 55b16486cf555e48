"""What a session produces: one trial's result and the session's, shared by the runner and
the chain tests' movement trials (which must not import the runner)."""
from __future__ import annotations

from dataclasses import dataclass, field

from rig.units import G_M_S2  # noqa: F401  (re-exported: body weight <-> body mass)


@dataclass
class TrialResult:
    condition: str
    index: int
    practice: bool
    status: str
    reasons: list[str]
    measures: dict[str, float]
    trial_id: str | None = None


@dataclass
class SessionResult:
    session_id: str
    trials: list[TrialResult] = field(default_factory=list)
    side_measures: dict = field(default_factory=dict)      # condition name -> measure means
    screening: object | None = None
    body_mass_kg: float | None = None
    stopped: str | None = None
