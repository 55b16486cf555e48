"""Live view cost: one update() + process_events() per display frame, at several trial sizes.

Run: QT_QPA_PLATFORM=offscreen python bench/bench_live.py
The runner calls the view about 30 times per second with the whole trial so far; the view
decimates what it draws, so the cost should stay flat as the trial grows.
"""
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from rig.gui.live import LiveView  # noqa: E402
from rig.engine.stance import feet  # noqa: E402


def main():
    view = LiveView()
    view.set_trial("bench", feet("single_left"), 30.0)
    rng = np.random.default_rng(0)
    for rate_hz, seconds in ((80, 10), (80, 30), (1000, 10), (1000, 30)):
        n = int(rate_hz * seconds)
        t = np.arange(n) / rate_hz
        x = -100 + np.cumsum(rng.normal(0, 0.3, n))
        y = np.cumsum(rng.normal(0, 0.3, n))
        f = np.abs(rng.normal(170, 5, (n, 4)))
        reps = 60
        t0 = time.perf_counter()
        for i in range(reps):
            view.update(t, x, y, f, f.sum(axis=1), seconds, 0.0)
            view.process_events()
        ms = (time.perf_counter() - t0) / reps * 1e3
        print(f"{rate_hz:5d} Hz x {seconds:3d} s ({n:6d} samples): {ms:6.2f} ms per frame, "
              f"max display rate {1000 / ms:6.0f} fps")
    view.close()


if __name__ == "__main__":
    main()
