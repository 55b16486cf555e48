"""Synthetic sessions with a known truth, recorded through the Store API like the runner does.

Raw counts are built from a known COP path and body weight by bilinear distribution onto the
four cells of the nominal board (exact for a rigid top), then offset and scaled by known
per-cell gains; so cell forces and COP recomputed from the stored counts have a known answer.
"""
from __future__ import annotations

import numpy as np

from rig.frames import FrameBatch
from rig.calibration import load_calibration, nominal_path

RATE_HZ = 80.0
OFFSETS = np.array([52000.0, -31000.0, 18000.0, 9000.0])
HALF_SPAN_MM = 180.0


def calibration():
    """The nominal calibration, tared on a synthetic empty-board window (as a runner does)."""
    cal = load_calibration(nominal_path())
    cal.data["noise_floor"] = {"mass_kg": 20.0, "force_sd_n": 0.21, "cop_sd_x_mm": 0.05,
                               "cop_sd_y_mm": 0.06, "mean_velocity_mm_s": 1.2,
                               "filter": "default: Butterworth low-pass 10 Hz"}
    empty = np.tile(OFFSETS, (40, 1)).astype(np.int32)
    return cal.tare(empty)


def cell_forces(weight_n: float, x_mm: np.ndarray, y_mm: np.ndarray) -> np.ndarray:
    """(n, 4) forces FL, FR, BL, BR putting ``weight_n`` at COP (x, y) on corners at +-180 mm."""
    u, v = x_mm / HALF_SPAN_MM, y_mm / HALF_SPAN_MM
    return weight_n / 4.0 * np.column_stack([(1 - u) * (1 + v), (1 + u) * (1 + v),
                                             (1 - u) * (1 - v), (1 + u) * (1 - v)])


def frames_for(cop_x_mm, cop_y_mm, weight_n=700.0, t0_s=10.0, seq0=0, cal=None) -> FrameBatch:
    cal = cal or calibration()
    n = len(cop_x_mm)
    f = cell_forces(weight_n, np.asarray(cop_x_mm), np.asarray(cop_y_mm))
    raw = np.rint(f * cal.gain_counts_per_n + OFFSETS).astype(np.int32)
    t = t0_s + np.arange(n) / RATE_HZ
    return FrameBatch(((seq0 + np.arange(n)) % 65536).astype(np.uint16),
                      (np.rint(t * 1e6) % 2**32).astype(np.uint32), t, t + 0.003, raw,
                      np.zeros(n, np.uint16))


def sway(seed: int, n: int, amp_ml_mm: float, amp_ap_mm: float, centre=(0.0, 0.0)):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    x = centre[0] + amp_ml_mm * (np.sin(2 * np.pi * 0.4 * t + rng.uniform(0, 6)) + 0.3 * rng.standard_normal(n).cumsum() / np.sqrt(n))
    y = centre[1] + amp_ap_mm * (np.sin(2 * np.pi * 0.25 * t + rng.uniform(0, 6)) + 0.3 * rng.standard_normal(n).cumsum() / np.sqrt(n))
    return x, y


def measures_for(frames: FrameBatch, cal) -> tuple[dict, dict]:
    """Measures computed by the engine, as the runner would (time + area sets)."""
    from rig.engine.cop import cop_from_forces, preprocess
    from rig.engine.sway import compute_measures

    fz, x, y = cop_from_forces(cal.forces_n(frames.raw), cal.positions_mm)
    trace = preprocess(frames.t_s, x, y, fz)
    return compute_measures(trace, spectral_measures=False, research=False), trace.processing


CONDITIONS = [
    {"name": "single-leg eyes open left", "stance": "single-leg", "eyes": "open", "surface": "firm", "side": "left"},
    {"name": "single-leg eyes open right", "stance": "single-leg", "eyes": "open", "surface": "firm", "side": "right"},
    {"name": "single-leg eyes closed left", "stance": "single-leg", "eyes": "closed", "surface": "firm", "side": "left"},
    {"name": "single-leg eyes closed right", "stance": "single-leg", "eyes": "closed", "surface": "firm", "side": "right"},
]


def record_session(store, athlete="A17", seed=0, trials_per_condition=2, seconds=6.0,
                   left_scale=1.0, result=True, details=None) -> str:
    """A complete CAI-like session: 4 conditions x N trials, a practice trial, one invalid."""
    cal = calibration()
    store.ensure_athlete(athlete, **(details or {}))
    sid = store.new_session(
        athlete,
        {"name": "cai-screen", "version": "1", "sha256": "ab" * 32, "params": {"trial_s": seconds}},
        {"board_id": "sim-0001", "firmware": "1.0.0", "rate_hz": RATE_HZ, "port": "sim://?seed=1"},
        cal, meta={"operator": "Dr Quentin Zyx", "notes": "came with Jane Roe"})
    n = int(seconds * RATE_HZ)
    index, t0, seq = 0, 100.0, 0
    for ci, c in enumerate(CONDITIONS):
        scale = (2.0 if c["eyes"] == "closed" else 1.0) * (left_scale if c["side"] == "left" else 1.0)
        for k in range(trials_per_condition + (1 if ci == 0 else 0)):
            practice = ci == 0 and k == 0
            index += 1
            x, y = sway(seed * 100 + index, n, 4.0 * scale, 6.0 * scale,
                        centre=(-90.0 if c["side"] == "left" else 90.0, 10.0))
            fr = frames_for(x, y, t0_s=t0, seq0=seq, cal=cal)
            t0 += seconds + 3.0
            seq += n
            rec = store.begin_trial(sid, c, index, practice=practice)
            for i in range(0, n, 7):  # batches of a few frames, as the link delivers them
                rec.append(fr[i:i + 7])
            meas, proc = measures_for(fr, cal)
            status, reasons = "valid", []
            if ci == 3 and k == 1:
                status, reasons = "invalid", ["touch-down at 3.2 s (force fell below 80 % of body weight)"]
            rec.finish(status, reasons, {"frames_decoded": n, "frames_lost": 0, "crc_failures": 0},
                       (float(fr.t_s[0]) + 1.0, float(fr.t_s[-1])), meas, proc)
    if result:
        store.set_session_result(sid, {
            "protocol": "cai-screen", "cait": {"left": 21, "right": 29},
            "components": [{"name": "CAIT left", "value": 21, "threshold": "<= 25", "met": True,
                            "reference": "Wright 2014"}],
        }, [{"name": "self_reported_instability", "label": "Self-reported instability (left)",
             "side": "left", "reasons": ["CAIT 21 <= 25 (Wright 2014)"],
             "components": [{"measure": "CAIT", "value": 21, "threshold": 25, "reference": "Wright 2014"}]}])
    return sid
