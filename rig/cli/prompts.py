"""Asking a person at the terminal: each entry checked as it is typed, asked again until valid."""
from __future__ import annotations

import click


def ask(text: str, typ, required: bool = True):
    """One entry, checked as it is typed and asked again until it is valid (empty: None when
    not ``required``). ``typ`` is a click type (DecimalRange accepts a decimal comma)."""
    while True:
        v = click.prompt(text, default="", show_default=False, type=click.STRING).strip()
        if v == "":
            if not required:
                return None                 # not done: the screen says it is missing
            click.echo("  needed; try again")
            continue
        try:
            return click.types.convert_type(typ)(v)
        except click.BadParameter as e:
            click.echo(f"  {e.message}; try again" + ("" if required else " (empty: not done)"))
