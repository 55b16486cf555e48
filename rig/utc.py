"""UTC times as the project writes and reads them in files, exports and journal notes:
ISO 8601 to the second with a ``Z`` (``2026-11-27T14:58:59Z``). The store's own rows keep
milliseconds (rig.store.core.utc_now)."""
from __future__ import annotations

import time
from datetime import datetime


def utc_now_iso() -> str:
    """Now, UTC, to the second: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def parse_utc(text: str) -> datetime:
    """An ISO-8601 UTC time (``...Z`` or ``+00:00``) -> aware datetime; ValueError otherwise."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None or dt.utcoffset().total_seconds() != 0:
        raise ValueError("not UTC")
    return dt
