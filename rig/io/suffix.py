"""Writers chosen by the output file's suffix (as python-can's log writers): one lookup for the
session exports (``rig.io.WRITERS``) and the live stream (``rig.io.stream.STREAM_WRITERS``)."""
from __future__ import annotations

from pathlib import Path

from rig.errors import RigError


def by_suffix(out, table: dict, what: str):
    """``table[suffix of out]``, or a one-line error naming the formats there are."""
    suffix = Path(out).suffix.lower()
    if suffix not in table:
        raise RigError(f"--out {out}: unknown {what} format {suffix or '(no suffix)'!r}; "
                       f"use one of {', '.join(sorted(table))}")
    return table[suffix]
