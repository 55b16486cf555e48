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
