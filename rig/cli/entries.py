"""The clinician's entries (``rig.session.entries.ENTRIES``) as click options and prompts:
generated from the one declaration, never written out again here."""
from __future__ import annotations

import click

from rig.cli.options import DecimalRange
from rig.session.entries import ENTRIES, SIDES, ClinicalEntries


class MonthsSince(click.ParamType):
    """Months since an event: a number of months or a date YYYY-MM[-DD]."""

    name = "MONTHS|DATE"

    def convert(self, value, param, ctx):
        from rig.session.screening import months_since

        try:
            return months_since(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


def click_type(e):
    if e.kind == "sides":
        return click.Choice(list(SIDES))
    if e.kind == "months":
        return MonthsSince()
    return DecimalRange(e.lo, e.hi, e.unit, integer=e.kind == "int")


def entry_options(f):
    """Decorate a click command with one option per entry (``--cait-left`` ...)."""
    for e in reversed(ENTRIES):
        f = click.option(e.option, e.key, type=click_type(e), default=None, help=e.help)(f)
    return f


def given_entries(kwargs: dict) -> dict:
    """Pop the entries' values out of a command's keyword arguments."""
    return {e.key: kwargs.pop(e.key, None) for e in ENTRIES}


def prompt_entries(protocol, given: dict, interactive: bool, ask) -> ClinicalEntries:
    """The clinician's entries for the screen; each missing one asked for (checked as typed, by
    ``ask(text, type, required=False)``) when the protocol screens and a person is there."""
    vals = dict(given)
    if protocol.screening is not None and interactive:
        for e in ENTRIES:
            if vals.get(e.key) is not None or not e.prompted:
                continue
            if e.asked_if_sprained and vals.get("sprain_history") not in (None, e.asked_if_sprained, "both"):
                continue                        # no sprain on that side: no time to ask for
            hint = "/".join(SIDES) if e.kind == "sides" else (
                f"{e.lo:g}-{e.hi:g}{' ' + e.unit if e.unit else ''}" if e.kind in ("int", "float") else "months or YYYY-MM")
            vals[e.key] = ask(f"{e.label} ({hint}, empty if not done)", click_type(e), required=False)
    return ClinicalEntries(**{k: v for k, v in vals.items() if v is not None})
