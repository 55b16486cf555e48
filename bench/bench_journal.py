"""Journal and store figures: cost of ``TrialRecorder.append`` on the reader thread, the
background fdatasync, reading a journal back, filing a trial, and recovering one.

    python bench/bench_journal.py [DIR]

DIR (default: a temporary directory) decides which disk is measured.
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rig.frames import FrameBatch
from rig.store.journal import JournalWriter, read_journal
from rig.store import Store


def batch(n, t0=0.0, seq0=0):
    t = t0 + np.arange(n) / 80.0
    return FrameBatch((seq0 + np.arange(n)).astype(np.uint16), (t * 1e6).astype(np.uint32), t, t,
                      np.random.default_rng(0).integers(-2**23, 2**23, (n, 4)).astype(np.int32),
                      np.zeros(n, np.uint16))


def main(root: Path):
    print(f"directory: {root}")
    for n in (1, 8):
        w = JournalWriter(root / f"b{n}.rjl", {"bench": True})
        b = batch(n)
        times = []
        for _ in range(5000):
            t = time.perf_counter()
            w.append_frames(b)
            times.append(time.perf_counter() - t)
        w.close(remove=True)
        us = sorted(x * 1e6 for x in times)
        print(f"append of a {n}-frame batch: median {statistics.median(us):.1f} us, "
              f"p99 {us[int(0.99 * len(us))]:.1f} us (reader thread cost)")
    fd = os.open(root / "sync.bin", os.O_WRONLY | os.O_CREAT)
    syncs = []
    for _ in range(50):
        os.write(fd, b"x" * 4000)
        t = time.perf_counter()
        (getattr(os, "fdatasync", None) or os.fsync)(fd)
        syncs.append(time.perf_counter() - t)
    os.close(fd)
    os.unlink(root / "sync.bin")
    print(f"fdatasync of ~4 kB (every 100 ms, background thread): median "
          f"{statistics.median(syncs) * 1e3:.2f} ms, max {max(syncs) * 1e3:.2f} ms")

    # a 60 s trial at 80 Hz in batches of 2 frames: read back, file, recover
    store = Store.open(root / "data")
    sid = store.new_session("BENCH", {"name": "bench"}, {}, {"id": "nominal"})
    rec = store.begin_trial(sid, {"name": "c"}, 1)
    full = batch(4800)
    for i in range(0, 4800, 2):
        rec.append(full[i:i + 2])
    t = time.perf_counter()
    j = read_journal(rec.journal.path)
    print(f"read_journal, 60 s at 80 Hz ({len(j.frames)} frames, {j.blocks} blocks): "
          f"{(time.perf_counter() - t) * 1e3:.1f} ms")
    t = time.perf_counter()
    rec.finish("valid", [], {}, (0.0, 60.0), {"m": 1.0}, {})
    print(f"finish (npz + fsync + rename + commit + unlink): {(time.perf_counter() - t) * 1e3:.1f} ms")
    rec2 = store.begin_trial(sid, {"name": "c"}, 2)
    for i in range(0, 4800, 2):
        rec2.append(full[i:i + 2])
    rec2.journal.stop()
    os.close(rec2.journal._fd)  # as if the process had died
    rec2.journal._fd = -1
    store.close()
    t = time.perf_counter()
    s2 = Store.open(root / "data")
    print(f"Store.open recovering that trial: {(time.perf_counter() - t) * 1e3:.1f} ms "
          f"({s2.recovered[0]['frames']} frames)")
    s2.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as d:
            main(Path(d))
