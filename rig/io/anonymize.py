"""What ``--anonymize`` removes from an export, and the optional date shift or removal.

``anonymise_session`` (rig.io.data) drops the athlete's details and free-text metadata; this
module removes what identifies the *place and hardware* rather than the person, which leaks
just as well: serial ports (a ``/dev/serial/by-id/`` name carries the board's USB serial
number, and error messages in trial reasons quote the port), board ids and serials, host paths
(the protocol and calibration file paths, the data directory: they carry the user's home
directory and so the user name), the user and host names. It works on the finished text of an
export, so nothing added later by a writer escapes it.

Dates (``--dates``): ``keep`` (default), ``shift`` (every date, including the date inside
session and trial ids, moved back by the same whole number of days so the first session of
the export falls on 2000-01-01: intervals between sessions stay true), or ``drop`` (every date
replaced by ``0000-00-00``, times of day kept).
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import socket
from pathlib import Path

DATE_MODES = ("keep", "shift", "drop")
SHIFT_TO = dt.date(2000, 1, 1)

#: Generic patterns: device paths and home directories on Linux, macOS and Windows.
_PATTERNS = [
    re.compile(r"/dev/serial/by-(?:id|path)/[^\s'\",;)]+"),
    re.compile(r"/dev/(?:tty|cu\.)[A-Za-z0-9._-]+"),
    re.compile(r"\b(?:COM\d+)\b"),
    re.compile(r"(?:/home|/Users|/root)(?:/[^\s'\",;)]*)?"),
    re.compile(r"[A-Za-z]:\\\\?(?:Users|Documents and Settings)\\\\?[^\s'\",;)]*"),
    re.compile(r"usb-[A-Za-z0-9_.-]+"),
]
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?=[T ]\d{2}:\d{2}|\b)")
_ID = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?=-\d{6})")


class Scrubber:
    """Built from the sessions being exported; ``text(s)`` returns ``s`` anonymised."""

    def __init__(self, sessions: list[dict] = (), root: str | os.PathLike | None = None,
                 dates: str = "keep"):
        if dates not in DATE_MODES:
            raise ValueError(f"dates must be one of {DATE_MODES}")
        self.dates = dates
        secrets: set[str] = set()
        for s in sessions:
            board = s.get("board") or {}
            for k in ("port", "board_id", "serial", "usb_serial", "device"):
                if board.get(k):
                    secrets.add(str(board[k]))
            params = (s.get("protocol") or {}).get("params") or {}
            for v in (params.get("path"), (s.get("calibration") or {}).get("path"),
                      (s.get("calibration") or {}).get("source")):
                if v and ("/" in str(v) or "\\" in str(v)):
                    secrets.add(str(v))
                    secrets.add(str(Path(str(v)).parent))
        if root:
            secrets.add(str(Path(root)))
            secrets.add(str(Path(root).resolve()))
        home = str(Path.home())
        if len(home) > 1:
            secrets.add(home)
        # longest first, so a path is removed whole before its parent
        self._secrets = sorted((x for x in secrets if len(x) >= 4), key=len, reverse=True)
        words = set()
        for w in (_user(), socket.gethostname(), Path(home).name):
            if w and len(w) >= 3:
                words.add(w)
        self._words = [re.compile(rf"(?<![A-Za-z0-9]){re.escape(w)}(?![A-Za-z0-9])") for w in words]
        self._shift_days = 0
        if dates == "shift":
            first = min((_day(s.get("started_utc")) for s in sessions), default=None,
                        key=lambda d: d or dt.date.max)
            if first is not None:
                self._shift_days = (first - SHIFT_TO).days

    def text(self, s: str) -> str:
        for secret in self._secrets:
            if secret in s:
                s = s.replace(secret, "<removed>")
        for p in _PATTERNS:
            s = p.sub("<removed>", s)
        for w in self._words:
            s = w.sub("<removed>", s)
        if self.dates != "keep":
            s = _ID.sub(self._id_date, _ISO.sub(self._iso_date, s))
        return s

    def data(self, x):
        """The same for every string in a JSON-like structure (keys too)."""
        if isinstance(x, str):
            return self.text(x)
        if isinstance(x, dict):
            return {self.text(str(k)): self.data(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [self.data(v) for v in x]
        return x

    def _moved(self, y: str, m: str, d: str) -> dt.date | None:
        if self.dates == "drop":
            return None
        try:
            return dt.date(int(y), int(m), int(d)) - dt.timedelta(days=self._shift_days)
        except ValueError:
            return None

    def _iso_date(self, m: re.Match) -> str:
        day = self._moved(*m.groups())
        return day.isoformat() if day else "0000-00-00"

    def _id_date(self, m: re.Match) -> str:
        day = self._moved(*m.groups())
        return day.strftime("%Y%m%d") if day else "00000000"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _day(utc) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(utc)[:10])
    except ValueError:
        return None
