"""The link's cost over a long stream: poll cost against trial length, and peak memory of
``rig stream`` for 10 min against 2 h of board time (a simulated board at high speed).

    python bench/bench_link.py

Prints figures only; nothing here is a test. Goals (issue 11): a poll costs in proportion to
the new frames whatever the trial length; peak memory for 2 h within 25 % of 10 min.
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from rig.board.window import FrameWindow
from rig.frames import FrameBatch

RATE_HZ = 80.0


def batch(first, n):
    t = (first + np.arange(n)) / RATE_HZ
    return FrameBatch((np.arange(first, first + n) % 65536).astype(np.uint16),
                      (t * 1e6 % 2**32).astype(np.uint32), t, t,
                      np.zeros((n, 4), np.int32), np.zeros(n, np.uint16))


def poll_cost():
    print("poll cost (a 33 ms display tick reading the new frames), 80 Hz, 3 frames per batch:")
    print(f"{'trial length':>14} {'frames held':>12} {'us per poll':>12}")
    for minutes in (1, 10, 60):
        w = FrameWindow()
        n = int(minutes * 60 * RATE_HZ)
        for i in range(0, n, 3):
            w.append(batch(i, 3))
        cursor = w.count
        polls, t0 = 2000, time.perf_counter()
        for _ in range(polls):
            w.append(batch(w.count, 3))
            _, cursor = w.since(cursor)
        us = (time.perf_counter() - t0) / polls * 1e6
        print(f"{minutes:>11} min {len(w):>12} {us:>12.1f}")


def stream_peak_rss_mb(board_s: float, speed: float) -> float:
    with tempfile.TemporaryDirectory() as d:
        code = ("import resource, sys; from rig.cli import main\n"
                "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
                "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); raise\n")
        p = subprocess.run([sys.executable, "-c", code, "stream", "--port",
                            f"sim://?seed=1&speed={speed:g}&person=0", "--seconds", f"{board_s:g}",
                            "--out", os.path.join(d, "s.csv")], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(p.stderr)
        return int(p.stderr.strip().splitlines()[-1]) / 1024.0


def stream_memory():
    print("\nrig stream peak memory (RSS) against board time streamed:")
    speed = 100.0
    small = stream_peak_rss_mb(600, speed)
    large = stream_peak_rss_mb(7200, speed)
    print(f"  10 min: {small:.0f} MB   2 h: {large:.0f} MB   ratio {large / small:.2f} (goal <= 1.25)")


if __name__ == "__main__":
    poll_cost()
    stream_memory()
