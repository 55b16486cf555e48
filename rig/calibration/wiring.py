"""Wiring checks made on the way through the calibration, each a one-line message.

Channels are the board's four HX711 inputs (0..3, labelled FL FR BL BR on the board); cells
are the load cells in the corners. Faults found: a dead channel (timed-out status, or no
response to load), a cell wired with reversed polarity (counts fall under load), a saturated
channel, and cells plugged into the wrong channels (found from the corner placements and
offered as a remap).
"""
from __future__ import annotations

import numpy as np

from rig.errors import CalibrationError

CHANNEL_LABELS = ("FL", "FR", "BL", "BR")
CELL_WORDS = ("front-left", "front-right", "back-left", "back-right")
CORNERS = ("front_left", "front_right", "back_left", "back_right")
NO_RESPONSE_FRACTION = 0.02   # of the expected counts: a cell that moves less is not connected
REVERSED_FRACTION = 0.2       # a fall of this much of the expected counts: reversed polarity


def channel_name(ch: int) -> str:
    return f"channel {ch} ({CHANNEL_LABELS[ch]})"


class WiringFault(CalibrationError):
    """A wiring fault found during calibration (one line: what, which channel, what to do)."""


def check_status(timed_out, saturated, when: str) -> None:
    """Raise for a channel whose HX711 timed out or reads full scale (status bits)."""
    for ch in np.flatnonzero(np.asarray(timed_out)):
        raise WiringFault(f"{channel_name(ch)}: no answer from its HX711 ({when}): dead chip or loose "
                          "DOUT/SCK/power wire")
    for ch in np.flatnonzero(np.asarray(saturated)):
        raise WiringFault(f"{channel_name(ch)}: reads full scale ({when}): saturated; check the cell's "
                          "excitation and signal wires, or the load is beyond its range")


def check_response(delta_counts, expected_counts, where: str) -> None:
    """Raise for a channel that does not respond to a load, or responds backwards.

    ``delta_counts`` (4,) offset-corrected counts with the mass at ``where``; ``expected_counts``
    (4,) what a correctly wired nominal cell would read there.
    """
    d = np.asarray(delta_counts, float)
    e = np.asarray(expected_counts, float)
    for ch in range(4):
        if e[ch] <= 0:
            continue
        if d[ch] < -REVERSED_FRACTION * e[ch]:
            raise WiringFault(f"{channel_name(ch)}: counts fall under load ({where}): the cell is wired "
                              "with reversed polarity; swap its S+ and S- (green/white) wires")
        if abs(d[ch]) < NO_RESPONSE_FRACTION * e[ch]:
            raise WiringFault(f"{channel_name(ch)}: no response to load ({where}): broken cell or "
                              "signal wire")


def corner_channel_map(corner_deltas) -> np.ndarray:
    """From (4 corners, 4 channels) load counts: the channel carrying each corner's cell.

    The channel that responds most when the mass is over corner k carries cell k. Raises when
    the answer is not one channel per corner.
    """
    d = np.asarray(corner_deltas, float)
    ch = np.argmax(d, axis=1)
    if sorted(ch.tolist()) != [0, 1, 2, 3]:
        raise WiringFault("corner placements are ambiguous: channels "
                          + ", ".join(f"{CORNERS[k]}->{CHANNEL_LABELS[c]}" for k, c in enumerate(ch))
                          + " (was each mass over its own corner mark?)")
    return ch


def remap_message(channel: np.ndarray) -> str:
    """One line describing cells found on other channels."""
    wrong = [f"the {CELL_WORDS[cell]} cell is on {channel_name(int(c))}"
             for cell, c in enumerate(channel) if c != cell]
    return "cells in the wrong corner: " + "; ".join(wrong)
