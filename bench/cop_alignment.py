"""COP error on a 1 Hz +/-100 mm medio-lateral weight shift, before and after cell alignment.

    python bench/cop_alignment.py [--seconds 20] [--seed 1] [--chip-hz 91,92,93.5,94] [--firmware]

Writes the replay file (t_s,cop_x_mm,cop_y_mm,fz_n), streams it on the simulated board in
board time (no wall clock: the board is advanced directly), and prints the RMS and max COP-x
error around the true sinusoid with raw counts (the four cells as read, up to ~11 ms apart)
and with counts aligned to the frame instants (rig.calibration.align). Forces use the board's
true gains and offsets, so what remains is timing, noise and drift.

With --firmware the same shift goes through the real firmware in simavr (firmware/build/bbsim):
the scene's cell counts (the seed's gains and offsets) are written as a --wave table at 1 kHz,
each emulated HX711 converts it at its own instants (seeded clocks 91-94 Hz, datasheet noise),
and the firmware's bytes (--txlog, simulated time only) are decoded and scored the same way.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np

SHIFT_HZ = 1.0
SHIFT_MM = 100.0
WEIGHT_N = 700.0


def write_shift_file(path: Path, seconds: float, rate_hz: float = 1000.0) -> Path:
    """A replay file: COP x = 100 mm sin(2 pi 1 Hz t), y = 0, Fz = 700 N."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    x = SHIFT_MM * np.sin(2 * np.pi * SHIFT_HZ * t)
    rows = np.column_stack([t, x, np.zeros_like(t), np.full_like(t, WEIGHT_N)])
    np.savetxt(path, rows, fmt=["%.4f", "%.5f", "%.1f", "%.1f"], delimiter=",",
               header="t_s,cop_x_mm,cop_y_mm,fz_n", comments="")
    return path


def stream_sim(url_query: str, seconds: float):
    """Frames of ``sim://?url_query`` streamed for ``seconds`` of board time, and the board."""
    import rig.sim  # noqa: F401
    from rig.board import wire
    from rig.board.decoder import Decoder
    from rig.sim.protocol_sim import SimBoard

    board = SimBoard(parse_qs(url_query, keep_blank_values=True))
    board.advance(0.1)
    board.receive(wire.command(wire.C_START))
    d = Decoder()
    frames = []
    t = 0.1
    while t < 0.1 + seconds:  # in board time, chunked as a link would read
        t += 0.05
        board.advance(t)
        frames.append(d.feed(bytes(board.out)))
        board.out.clear()
    from rig.frames import FrameBatch

    return FrameBatch.concat(frames), board, d


def cop_x_mm(counts, model):
    """COP x (mm) from counts (n, 4) with the model's true offsets, gains and positions."""
    f = (counts - model.offsets_counts) / model.gains_counts_per_n
    fz = f.sum(axis=1)
    return (f @ model.positions_mm[:, 0]) / fz, fz


def cop_errors(frames, board, skip_s: float = 0.5):
    """(rms_raw, max_raw, rms_aligned, max_aligned) of COP x against the true shift, in mm."""
    from rig.calibration.align import align_counts

    scene = board.scene
    src = scene.sources[0]
    world = frames.t_s  # board clock = world time since power-up (no reset)
    _, true_x, _ = src.force_cop(world - scene.t0_s)
    x_raw, fz = cop_x_mm(frames.raw.astype(float), board.model)
    x_al, _ = cop_x_mm(align_counts(frames), board.model)
    r = world - scene.t0_s - src.start_s
    on = (fz > 0.5 * WEIGHT_N) & (r > skip_s) & (r < src.t[-1] - skip_s)
    e_raw, e_al = (x_raw - true_x)[on], (x_al - true_x)[on]
    rms = lambda e: float(np.sqrt(np.mean(e ** 2)))
    return rms(e_raw), float(np.abs(e_raw).max()), rms(e_al), float(np.abs(e_al).max()), int(on.sum())


def firmware_run(url_query: str, seconds: float, tmp: Path, chip_hz: str | None = None):
    """Frames from the firmware in simavr for the world of ``url_query``; (frames, model, scene)."""
    import subprocess

    from rig.board.decoder import Decoder
    from rig.sim.board import SimBoardModel
    from rig.sim.firmware import DEFAULT_ELF, HARNESS, build_firmware
    from rig.sim.protocol_sim import _scene_builder

    build_firmware(("fw", "sim"))
    opts = parse_qs(url_query, keep_blank_values=True)
    model = SimBoardModel.from_options(opts)
    scene = _scene_builder(opts)(opts, np.random.default_rng([model.seed, 0x5CE4E]), model.positions_mm)
    t = np.arange(0.0, seconds + 1.0, 0.001)
    counts = model.offsets_counts + model.gains_counts_per_n * scene.forces_n(t)
    wave = tmp / "wave.csv"
    np.savetxt(wave, np.column_stack([t, counts]), fmt="%.6f", delimiter=",")
    log = tmp / "tx.bin"
    args = [str(HARNESS), "--no-control", "--autostart-ms", "100", "--max-sim-s", str(seconds),
            "--txlog", str(log), "--wave", str(wave)]
    if chip_hz:
        args += ["--chip-hz", chip_hz]
    r = subprocess.run(args + [str(DEFAULT_ELF)], capture_output=True, text=True, timeout=600)
    import json

    stats = json.loads([ln for ln in r.stderr.splitlines() if ln.startswith("{")][-1])
    d = Decoder()
    frames = d.feed(log.read_bytes())
    return frames, model, scene, stats


def score(frames, model, scene, skip_s=0.5):
    """COP x errors (rms/max raw, rms/max aligned, n) against the scene's replay, world = board time."""
    from rig.calibration.align import align_counts

    src = scene.sources[0]
    _, true_x, _ = src.force_cop(frames.t_s - scene.t0_s)
    x_raw, fz = cop_x_mm(frames.raw.astype(float), model)
    x_al, _ = cop_x_mm(align_counts(frames), model)
    r = frames.t_s - scene.t0_s - src.start_s
    on = (fz > 0.5 * WEIGHT_N) & (r > skip_s) & (r < min(src.t[-1], frames.t_s[-1] - scene.t0_s - src.start_s) - skip_s)
    e_raw, e_al = (x_raw - true_x)[on], (x_al - true_x)[on]
    rms = lambda e: float(np.sqrt(np.mean(e ** 2)))
    return rms(e_raw), float(np.abs(e_raw).max()), rms(e_al), float(np.abs(e_al).max()), int(on.sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chip-hz", default=None)
    ap.add_argument("--firmware", action="store_true", help="the real firmware in simavr")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_shift_file(Path(tmp) / "shift.csv", args.seconds + 2)
        q = f"seed={args.seed}&replay={path}&on_s=0.5"
        if args.firmware:
            frames, model, scene, stats = firmware_run(q, args.seconds, Path(tmp), args.chip_hz)
            rr, mr, ra, ma, n = score(frames, model, scene)
            chips = np.array(stats["chip_hz"])
            print(f"firmware stats: mixed in read {stats['chip_mixed_in_read']}, overwritten "
                  f"{stats['chip_overwritten']}, samples {stats['samples']}, seq gaps {stats['seq_gaps']}")
        else:
            if args.chip_hz:
                q += f"&chip_hz={args.chip_hz}"
            frames, board, d = stream_sim(q, args.seconds)
            rr, mr, ra, ma, n = cop_errors(frames, board)
            chips = 1 / board.model.chip_period_s
    rate = (len(frames) - 1) / (frames.t_s[-1] - frames.t_s[0])
    ages = frames.age_us.astype(int)
    spread = ages.max(1) - ages.min(1)
    print(f"chips {np.round(chips, 2)} Hz, frames {rate:.2f} Hz, {n} frames scored")
    print(f"cell skew in a frame: mean {spread.mean() / 1e3:.2f} ms, p95 {np.percentile(spread, 95) / 1e3:.2f} ms, "
          f"max {spread.max() / 1e3:.2f} ms")
    print(f"COP x error raw:     RMS {rr:.3f} mm, max {mr:.3f} mm")
    print(f"COP x error aligned: RMS {ra:.3f} mm, max {ma:.3f} mm")


if __name__ == "__main__":
    main()
