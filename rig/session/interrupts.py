"""Operator interruptions (Ctrl-C, SIGTERM, a closed window) as a flag, never an exception
raised at a random point.

Python runs a signal handler between two bytecodes of the main thread, wherever that is: inside
a Qt paint callback (where a raised ``KeyboardInterrupt`` is printed by PySide as
``Error calling Python override ...`` and swallowed, the trial carrying on), half way through a
journal write, or while Qt objects are being torn down (a segfault). Inside ``deferred()`` the
handler only records the request; the loops that own the board (the runner's poll, ``rig live``)
call ``pending()`` at display rate and stop cleanly, closing what they opened. Blocking prompts
inside a deferred block use ``prompting()``, where Ctrl-C raises as usual (a prompt has nothing
half-written).

Every command exits with ``EXIT_INTERRUPTED`` (130, the shell's code for SIGINT) when stopped by
the operator, whichever way: Ctrl-C, SIGTERM, or closing the live view.
"""
from __future__ import annotations

import contextlib
import signal
import threading

from rig.errors import RigError

EXIT_INTERRUPTED = 130


class Interrupted(RigError):
    """The operator stopped a command; the message says what was kept and where."""

    exit_code = EXIT_INTERRUPTED

_REASONS = {signal.SIGINT: "stopped by the operator (Ctrl-C)",
            signal.SIGTERM: "stopped by the operator (SIGTERM)"}

_pending: str | None = None
_raise_now = True


def _handler(signum, frame):  # noqa: ARG001 - signal handler signature
    global _pending
    _pending = _pending or _REASONS.get(signum, f"stopped by signal {signum}")
    if _raise_now:
        raise KeyboardInterrupt


def pending() -> str | None:
    """Why the operator asked to stop (one line), or None."""
    return _pending


def request(reason: str) -> None:
    """Ask the running loop to stop (e.g. the live view's window was closed, or Esc)."""
    global _pending
    _pending = _pending or reason


def clear() -> None:
    global _pending
    _pending = None


def install_terminate_as_interrupt() -> None:
    """SIGTERM behaves like Ctrl-C (a clean stop, exit 130) instead of killing the process
    with files half-written. Called once by the CLI's entry point."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _handler)


@contextlib.contextmanager
def deferred():
    """Within: Ctrl-C and SIGTERM only set ``pending()``; the caller's loop must check it."""
    global _raise_now
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    clear()
    prev_raise = _raise_now
    _raise_now = False
    for s, h in old.items():
        if h is not signal.SIG_IGN:          # nohup and background jobs keep ignoring it
            signal.signal(s, _handler)
    try:
        yield
    finally:
        _raise_now = prev_raise
        for s, h in old.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


@contextlib.contextmanager
def prompting():
    """Within a ``deferred()`` block: a blocking prompt that Ctrl-C must be able to end."""
    global _raise_now
    prev = _raise_now
    if _pending:
        raise KeyboardInterrupt
    _raise_now = True
    try:
        yield
    finally:
        _raise_now = prev
