"""Signals with known answers, and the published PDS values, for the engine tests."""
from pathlib import Path

import numpy as np

PDS_DIR = Path(__file__).resolve().parents[1] / "data" / "pds"  # a copy in the repository (CC BY 4.0, see README.md there)
PDS_TRIALS = [f"PDS13{v}{s}{r}" for v in "OC" for s in "RF" for r in "123"]


def circle(radius_mm=10.0, freq_hz=0.5, fs_hz=100.0, duration_s=20.0, centre=(3.0, -7.0)):
    """(t_s, x_mm, y_mm) of a COP going round a circle at constant speed."""
    t = np.arange(int(round(duration_s * fs_hz))) / fs_hz
    w = 2 * np.pi * freq_hz * t
    return t, centre[0] + radius_mm * np.cos(w), centre[1] + radius_mm * np.sin(w)


def pds_published():
    """{trial: (area_cm2, velocity_cm_s, mfreq_hz)} for the PDS13 rows of PDSinfoCOP.txt."""
    out = {}
    with open(PDS_DIR / "PDSinfoCOP.txt") as f:
        header = f.readline().rstrip("\n").split("\t")
        ia, iv, im = (header.index(c) for c in ("COParea", "COPvelo", "COPmfreq"))
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[0].startswith("PDS13"):
                out[p[0]] = (float(p[ia]), float(p[iv]), float(p[im]))
    return out


def same_sway(fs_hz, seconds=60.0, noise_mm=0.03, seed=3):
    """(t_s, x_mm, y_mm): one continuous sway (300 sinusoids 0.02-8 Hz, amplitude ~ f^-0.75,
    random phases) sampled by a board at fs_hz, with white sensor noise: the same sway at any
    rate."""
    t = np.arange(int(seconds * fs_hz)) / fs_hz
    g = np.random.default_rng(seed)
    f = np.geomspace(0.02, 8.0, 300)
    amp = 3.0 / f ** 0.75 * np.sqrt(np.gradient(f))
    ph = g.uniform(0, 2 * np.pi, (2, f.size))
    x = np.sin(2 * np.pi * f * t[:, None] + ph[0]) @ amp
    y = 1.5 * (np.sin(2 * np.pi * f * t[:, None] + ph[1]) @ amp)
    n = np.random.default_rng(int(fs_hz)).normal(0, noise_mm, (2, t.size))
    return t, x + n[0], y + n[1]
