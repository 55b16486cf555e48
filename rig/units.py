"""Physical and hardware constants, each defined once; every module that needs one imports it.

SI inside (DESIGN.md): forces in newtons, masses in kilograms, accelerations in m/s^2.
"""
from __future__ import annotations

#: Standard gravity (m/s^2, CGPM 1901, exact): body mass (kg) <-> body weight (N), and the
#: weight of a calibration mass.
G_M_S2 = 9.80665

#: The HX711's signed 24-bit reading (counts): the wire format's raw values and a calibration
#: file's offsets lie in this range; a cell at either end is saturated.
INT24_MIN, INT24_MAX = -0x800000, 0x7FFFFF

#: Nominal build (calibration/nominal.toml, docs/CONTRACTS.md): 100 kg full-bridge cells at
#: 1 mV/V, 4.3 V excitation, HX711 gain 128 (+-20 mV full scale):
#: 4.3 mV / 980.665 N * 8388608 / 20 mV = 1839 counts per newton.
NOMINAL_GAIN_COUNTS_PER_N = 1839.0
