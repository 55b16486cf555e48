#!/usr/bin/env python3
"""Measures the firmware's figures in simulated time: flash/RAM, sample period and jitter,
MCU busy share, UART load, simulation speed.

    python3 firmware/sim/figures.py [--seconds 10]

Runs `make -C firmware` then two deterministic harness runs (START injected at 100 ms):
four chips on one clock, and four chips with oscillator errors of 0, +2000, -3000 and
+5000 ppm (real HX711s run on their own RC oscillators). Everything but the wall-clock speed
is bit-reproducible.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from rig.board.decoder import Decoder  # noqa: E402

FW = ROOT / "firmware"


def run(seconds: float, ppm: str, log: Path) -> tuple[dict, np.ndarray]:
    r = subprocess.run(
        [str(FW / "build" / "bbsim"), "--no-control", "--board-id", "0123456789abcdef",
         "--autostart-ms", "100", "--max-sim-s", str(seconds), "--ppm", ppm, "--ramp", "3",
         "--txlog", str(log), str(FW / "build" / "balance-rig.elf")],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    stats = json.loads(r.stderr.strip().splitlines()[-1])
    frames = Decoder().feed(log.read_bytes())
    return stats, frames.t_us.astype(np.int64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="simulated seconds per run")
    a = ap.parse_args()
    out = subprocess.run(["make", "-C", str(FW), "fw", "sim"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"firmware .*", out)
    print(m.group(0) if m else out)
    with tempfile.TemporaryDirectory() as tmp:
        for name, ppm in (("one clock", "0,0,0,0"), ("skewed clocks", "0,2000,-3000,5000")):
            s, t = run(a.seconds, ppm, Path(tmp) / "tx.bin")
            dt = np.diff(t)[2:]  # the first frames after START come from waiting conversions
            print(f"{name} (ppm {ppm}), {s['sim_s']:.1f} s simulated, {s['samples']} samples:")
            print(f"  sample period from t_us: mean {dt.mean():.3f} us, sd {dt.std():.3f} us, "
                  f"min {dt.min()} us, max {dt.max()} us; rate {1e6 / dt.mean():.3f} Hz")
            print(f"  data-ready (last chip) -> first SCK: mean {s['ready_latency_us']['mean']:.1f} us, "
                  f"max {s['ready_latency_us']['max']:.1f} us; SCK high max {s['max_sck_high_us']:.2f} us")
            print(f"  MCU busy while streaming {100 * s['streaming_cpu_busy']:.2f} % "
                  f"(asleep in idle mode the rest); UART load {100 * s['uart_load']:.2f} % of 500 kbaud")
            print(f"  sequence gaps {s['seq_gaps']}, conversions overwritten per chip "
                  f"{s['chip_overwritten']}, mixed during a read {s['chip_mixed_in_read']}")
            print(f"  simulation speed {s['speed']:.2f}x real time (wall clock, machine-dependent)")


if __name__ == "__main__":
    main()
