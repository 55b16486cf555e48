"""``rig ports`` and ``rig info``: what is plugged in, and what it is."""
from __future__ import annotations

import click
import numpy as np

from rig.board import wire
from rig.board.discovery import list_candidate_ports, probe
from rig.board.discovery import open_board
from rig.cli.options import port_option


@click.command()
def ports():
    """List serial ports; known board USB bridges that nobody else uses are asked who they are.

    Only a port that answers the identify handshake is called a board. Asking opens the port,
    which reboots an Arduino, so other devices (unknown USB ids) and ports another program has
    open (a board it streams from) are never opened; the last column says what was done.
    Pseudo-terminals (e.g. from `rig sim`) are not listed: pass them with --port.
    """
    infos = list_candidate_ports()
    if not infos:
        click.echo("no serial ports found")
        return
    rows = [("PORT", "USB ID", "DESCRIPTION", "BOARD")]
    for info in infos:
        probe(info, handshake_s=2.0)
        if info.board_id:
            board = f"board {info.board_id}, firmware {info.firmware}, {info.rate_hz:g} Hz"
        else:
            board = info.action
        rows.append((info.device, info.usb_id, info.description or "-", board))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3])
    n = sum(1 for i in infos if i.board_id)
    click.echo(f"{n} board{'s' if n != 1 else ''} found")


@click.command()
@port_option
@click.option("--measure-s", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Stream this many board seconds to measure the real rate and cell readings (0: skip).")
def info(port, measure_s):
    """Identify the board: id, firmware, wire version, cells, rate, ADC, stored calibration.

    With --measure-s it also streams briefly and shows the measured frame rate, each cell's
    raw reading and status, each HX711's own conversion rate and how far apart the four cells
    of a frame were sampled, and the board's health counters (STATS).
    """
    with open_board(port) as link:
        h = link.hello
        blob = link.read_calibration_blob()
        click.echo(f"port:             {link.url}")
        click.echo(f"board id:         {h.board_id_hex}")
        click.echo(f"firmware:         {h.firmware_str}")
        click.echo(f"wire version:     {h.wire_version}")
        click.echo(f"cells:            {h.cell_count}")
        click.echo(f"ADC:              {h.adc_name}")
        click.echo(f"nominal rate:     {h.rate_hz:g} Hz")
        click.echo(f"calibration blob: {f'{len(blob)} bytes stored' if blob else 'none stored'}")
        if measure_s <= 0:
            return
        link.start()
        frames = link.collect(measure_s)
        link.stop()
        dt = np.diff(frames.t_s)
        rate = 1.0 / np.mean(dt) if len(dt) else float("nan")
        click.echo(f"measured rate:    {rate:.2f} Hz over {len(frames)} frames "
                   f"(period {np.mean(dt) * 1e3:.3f} ms, jitter sd {np.std(dt) * 1e6:.1f} us)")
        flags = {b: frames.cell_flags(b).any(axis=0) for b in (wire.CELL_NOT_READY, wire.CELL_SATURATED, wire.CELL_TIMED_OUT)}
        for c, name in enumerate(wire.CELL_NAMES):
            col = frames.raw[:, c]
            notes = [n for b, n in ((wire.CELL_TIMED_OUT, "TIMED OUT"), (wire.CELL_SATURATED, "SATURATED"), (wire.CELL_NOT_READY, "not ready")) if flags[b][c]]
            click.echo(f"cell {c} {name:<12} raw mean {col.mean():>12.0f}  sd {col.std():>8.1f} counts  {' '.join(notes)}")
        _show_health(link.read_stats(), frames, h.rate_hz)
        click.echo(f"link:             {link.stats.summary()}")


def _show_health(st: wire.Stats, frames, nominal_hz: float) -> None:
    """Each chip's measured conversion rate, the cells' skew within a frame, board counters."""
    rates = [c.rate_hz for c in st.chips]
    click.echo("chip rates:       " + "  ".join(
        f"{n.replace('_', '-')} {r:.2f} Hz" if r == r else f"{n.replace('_', '-')} -" for n, r in zip(wire.CELL_NAMES, rates)))
    skipped = [c.skipped for c in st.chips]
    timeouts = [c.timeouts for c in st.chips]
    click.echo(f"chip health:      conversions skipped {skipped}, timeouts {timeouts} (since START)")
    known = frames.age_us != wire.AGE_UNKNOWN
    rows = known.all(axis=1)
    if rows.any():
        ages = frames.age_us[rows].astype(np.int64)
        spread = (ages.max(axis=1) - ages.min(axis=1)) / 1e3
        click.echo(f"cell skew:        newest-oldest cell in a frame mean {spread.mean():.1f} ms, "
                   f"max {spread.max():.1f} ms (aligned on the host)")
    live = [r for r in rates if r == r]
    if live and max(live) < 0.3 * nominal_hz:
        click.echo(f"WARNING: the chips convert at ~{np.mean(live):.1f} Hz, not ~{nominal_hz:g}+: "
                   "is the HX711 modules' RATE pin tied low (10 SPS)?")
    click.echo(f"board counters:   frames dropped {st.frames_dropped}, UART receive errors {st.uart_rx_errors}, "
               f"receive overflows {st.uart_rx_overflows}, command CRC failures {st.cmd_crc_failures}, "
               f"command bytes skipped {st.cmd_bytes_skipped}")
