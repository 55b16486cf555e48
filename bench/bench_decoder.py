"""Decoder throughput and the CPU share needed to follow the link at its maximum frame rate.

Run:  python bench/bench_decoder.py
Prints frames/s for clean and corrupted streams in realistic read chunks, and the CPU share
for the fastest simulated board (1000 frames/s) and a real HX711 board (~80-94 frames/s).
"""
from __future__ import annotations

import time

import numpy as np

from rig.board import wire
from rig.board.decoder import Decoder


def make_stream(n, corrupt_p=0.0, seed=0):
    rng = np.random.default_rng(seed)
    data = wire.sample_packets(np.arange(n), 1000 + 1000 * np.arange(n), rng.integers(-2**23, 2**23, (n, 4)), np.zeros(n))
    if corrupt_p:
        arr = np.frombuffer(data, np.uint8).copy()
        hit = rng.random(arr.size) < corrupt_p
        arr[hit] ^= rng.integers(1, 256, hit.sum(), dtype=np.uint8)
        data = arr.tobytes()
    return data


def throughput(data, chunk, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        d = Decoder()
        t0 = time.process_time()
        for i in range(0, len(data), chunk):
            d.feed(data[i:i + chunk])
        best = min(best, time.process_time() - t0)
    return d.stats.frames_decoded / best, d.stats


def main():
    n = 200_000
    clean = make_stream(n)
    print(f"decoder benchmark: {n} frames of {wire.SAMPLE_PACKET_LEN} bytes, CPU time (one core)")
    for chunk in (27 * 1, 27 * 10, 27 * 100, 4096, 65536):
        fps, _ = throughput(clean, chunk)
        print(f"  clean stream, {chunk:>6}-byte reads: {fps:>12,.0f} frames/s")
    for p in (1e-4, 1e-3):
        fps, st = throughput(make_stream(n, p, 1), 4096)
        print(f"  corrupt={p:g}, 4096-byte reads:    {fps:>12,.0f} frames/s  ({st.crc_failures} CRC failures, {st.frames_lost} lost)")
    # Following the link: the reader thread lets bytes gather for 5 ms after each wake-up, so
    # at 1000 frames/s a read holds ~5 frames (135 bytes); an HX711 board (~80-94 frames/s)
    # delivers about one frame per read (27 bytes).
    for rate, chunk in ((1000, 135), (1000, 540), (94, 27)):
        fps, _ = throughput(clean[: 27 * 20000], chunk)
        print(f"  CPU share to follow {rate:>4} frames/s in {chunk:>3}-byte reads: {100 * rate / fps:.2f} % of one core")


if __name__ == "__main__":
    main()
