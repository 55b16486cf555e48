"""The clinician's entries, declared once.

Every entry a clinician types (questionnaire scores, injury history, manual test results) is one
row of ``ENTRIES``: its key, its human label, its kind and range, its unit and its help text.
From this one table come the ``ClinicalEntries`` record the screen reads and the store keeps,
the ``rig run`` options and their prompts (``rig.cli.entries``), and the report's labels.

Kinds: ``int`` / ``float`` (a number in ``lo``..``hi``; a decimal comma is accepted when typed),
``sides`` (``left``, ``right``, ``both`` or ``none``), ``months`` (months since an event, or a
date ``YYYY-MM[-DD]`` converted to months).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

SIDES = ("left", "right", "both", "none")


@dataclass(frozen=True)
class Entry:
    key: str
    label: str                      # report and prompt label
    kind: str                       # "int", "float", "sides" or "months"
    help: str                       # the option's help (units and meaning)
    lo: float | None = None
    hi: float | None = None
    unit: str = ""
    asked_if_sprained: str | None = None   # months entries: asked only when that side was sprained
    prompted: bool = True                  # False: an option only (an older, coarser entry)

    @property
    def option(self) -> str:
        return "--" + self.key.replace("_", "-")


ENTRIES: tuple[Entry, ...] = (
    Entry("cait_left", "CAIT total, left ankle", "int", "Cumberland Ankle Instability Tool total, left (0-30).", 0, 30),
    Entry("cait_right", "CAIT total, right ankle", "int", "CAIT total, right (0-30).", 0, 30),
    Entry("sprain_history", "Ankle sprain history", "sides", "Which ankle(s) have been sprained."),
    Entry("sprain_months_left", "Initial significant sprain, left (months ago)", "months",
          "Initial significant sprain, left: months ago (e.g. 18) or date YYYY-MM[-DD] (IAC: >= 12 months).",
          0, 1200, "months", asked_if_sprained="left"),
    Entry("sprain_months_right", "Initial significant sprain, right (months ago)", "months",
          "The same, right.", 0, 1200, "months", asked_if_sprained="right"),
    Entry("giving_way_6mo_left", "Giving way, left: episodes in the last 6 months", "int",
          "Episodes of giving way of the left ankle in the last 6 months (IAC: >= 2).", 0, 1000),
    Entry("giving_way_6mo_right", "Giving way, right: episodes in the last 6 months", "int",
          "The same, right.", 0, 1000),
    Entry("recurrent_sprain", "Recurrent sprain", "sides", "Which ankle(s) sprain recurrently."),
    Entry("feels_unstable", "Feelings of instability", "sides", "Which ankle(s) feel unstable."),
    Entry("lunge_left_cm", "Weight-bearing lunge, left (cm)", "float",
          "Weight-bearing lunge (knee to wall), left, cm.", 0, 30, "cm"),
    Entry("lunge_right_cm", "Weight-bearing lunge, right (cm)", "float",
          "Weight-bearing lunge, right, cm.", 0, 30, "cm"),
    Entry("giving_way", "Giving way, 2 or more episodes (no time window)", "sides",
          "Which ankle(s) give way (2 or more episodes, no time window; prefer --giving-way-6mo-*).",
          prompted=False),
)

BY_KEY = {e.key: e for e in ENTRIES}


def _as_dict(self) -> dict:
    return dataclasses.asdict(self)


#: What the clinician entered; None = not asked (the screen says what it cannot decide then).
ClinicalEntries = dataclasses.make_dataclass(
    "ClinicalEntries", [(e.key, object, dataclasses.field(default=None)) for e in ENTRIES],
    namespace={"as_dict": _as_dict, "__doc__": "The clinician's entries (rig.session.entries.ENTRIES); "
                                                 "None = not asked."})
ClinicalEntries.__module__ = __name__


def entries_from(values: dict) -> "ClinicalEntries":
    """A ``ClinicalEntries`` from a dict (e.g. a stored session's), ignoring unknown keys."""
    return ClinicalEntries(**{k: v for k, v in (values or {}).items() if k in BY_KEY and v is not None})
