"""How many times the link asks the board before it gives up: a budget from an error rate.

A USB-serial link may corrupt bytes in both directions. The board ignores a command whose CRC
fails and the host an answer whose CRC fails, so one exchange of ``n`` bytes (command plus
answer) gets through with probability ``(1 - p)^n`` for a byte error rate ``p``. The budget is
the number of tries after which a command still fails with probability below
``FAILURE_TARGET`` at ``DESIGN_BYTE_ERROR`` (5 %: a very bad link; a healthy one loses almost
nothing). START or STOP (7 + 9 bytes) needs 36 tries; almost always the first one does.

Commands are idempotent (WIRE_FORMAT.md), so a try whose answer was lost can be repeated
safely. A board that sends back nothing at all, try after try, is either dead or lost each
command on its way in (probability ``1 - (1 - p)^command_bytes``): ``silent_attempts`` such
tries in a row end the wait sooner, with the same confidence.
"""
from __future__ import annotations

import math

from rig.board import wire

DESIGN_BYTE_ERROR = 0.05   # fraction of bytes corrupted on the worst link the budget is for
FAILURE_TARGET = 1e-9      # probability that a command on such a link fails anyway
MAX_ATTEMPTS = 120         # long answers (STATS, a 64-byte CALIB) at 5 %: bounded, not to 1e-9

_PACKET = wire.HEADER_LEN + wire.CRC_LEN
# the payload of each command's answer (CALIB_READ: its longest, a full blob)
_ANSWER_PAYLOAD = {
    wire.C_IDENTIFY: wire.HELLO_PAYLOAD_LEN,
    wire.C_START: 2,
    wire.C_STOP: 2,
    wire.C_CALIB_READ: 1 + wire.CALIB_BLOB_MAX,
    wire.C_CALIB_WRITE: 2,
    wire.C_STATS: wire.STATS_PAYLOAD_LEN,
}


def failure_probability(attempts: int, n_bytes: int, p: float = DESIGN_BYTE_ERROR) -> float:
    """Probability that ``attempts`` exchanges of ``n_bytes`` each all lose a byte."""
    return (1.0 - (1.0 - p) ** n_bytes) ** attempts


def attempts_for(n_bytes: int, p: float = DESIGN_BYTE_ERROR, target: float = FAILURE_TARGET) -> int:
    """Fewest tries whose ``failure_probability`` is below ``target`` (at most MAX_ATTEMPTS)."""
    per_try = 1.0 - (1.0 - p) ** n_bytes
    if per_try <= 0.0:
        return 1
    if per_try >= 1.0:
        return MAX_ATTEMPTS
    return min(MAX_ATTEMPTS, max(1, math.ceil(math.log(target) / math.log(per_try))))


def exchange_bytes(cmd: int, payload_len: int = 0) -> int:
    """Bytes of one command (with ``payload_len`` bytes of payload) and its answer."""
    return 2 * _PACKET + payload_len + _ANSWER_PAYLOAD.get(cmd, 2)


def command_attempts(cmd: int, payload_len: int = 0) -> int:
    """Tries the link makes of ``cmd`` before it reports that the board did not answer."""
    return attempts_for(exchange_bytes(cmd, payload_len))


def silent_attempts(cmd: int, payload_len: int = 0) -> int:
    """Tries in a row with nothing at all back from the board after which it is given up."""
    return attempts_for(_PACKET + payload_len)
