"""The guided calibration and the spot check, independent of click.

``CalibrationProcedure`` follows the steps of ``rig.calibration.steps`` through the board's
frames (``StepTracker`` detects each placement by itself), runs the wiring checks on the way,
and at the end fits the gains and builds the new ``Calibration``. ``SpotCheck`` measures a known
mass at the centre and off-centre with an existing calibration. Both talk to the user only via
a small ``ui`` object (``say(text)``, ``confirm(text, default) -> bool``), so the CLI, a GUI and
the tests drive the same code; ``run(link)`` reads a live board, ``feed(batch)`` takes frames
from anywhere.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rig.calibration import steps as S
from rig.calibration import wiring
from rig.calibration.detect import StepResult, StepTracker
from rig.calibration.fit import cop_mm, fit_gains, linearity
from rig.calibration.model import CELL_NAMES, SCHEMA_VERSION, STANDARD_GRAVITY_M_S2, Calibration
from rig.units import NOMINAL_GAIN_COUNTS_PER_N
from rig.utc import utc_now_iso
from rig.calibration.noise import noise_floor
from rig.errors import CalibrationError, RigError

FORCE_WARN_FRACTION = 0.005   # fit residual above 0.5 % of the weight: warn
COP_WARN_MM = 2.0
DRIFT_WARN_N_PER_MIN = 0.5
NOT_EMPTY_N = 30.0            # zero differs this much from the last calibration's: not empty?


class TextUI:
    """Collects messages (tests); confirms with a fixed answer."""

    def __init__(self, answer: bool = True):
        self.lines: list[str] = []
        self.answer = answer

    def say(self, text: str) -> None:
        self.lines.append(text)

    def confirm(self, text: str, default: bool = True) -> bool:
        self.lines.append(f"{text} -> {'yes' if self.answer else 'no'}")
        return self.answer


@dataclass
class Settings:
    """What the clinician chose for the procedure."""

    mass_kg: float
    positions_mm: np.ndarray
    linearity_kg: tuple[float, ...] = ()
    grid: bool = False
    noise_kg: float | None = None
    noise_s: float = S.NOISE_S
    measure_s: float = S.MEASURE_S
    step_timeout_s: float = 300.0
    nominal_gain: float = NOMINAL_GAIN_COUNTS_PER_N
    calibrated_by: str = ""
    gravity_m_s2: float = STANDARD_GRAVITY_M_S2
    # offsets (counts by channel) of the board's previous calibration, to notice a board that
    # was not empty when zeroed
    previous_offsets: np.ndarray | None = None


class _Runner:
    """Shared: feed frames to a StepTracker, announce progress, run the wiring checks."""

    def __init__(self, steps, settings: Settings, ui):
        self.steps = steps
        self.s = settings
        self.ui = ui
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.tracker = StepTracker(steps, self._event, nominal_gain=settings.nominal_gain,
                                   measure_s=settings.measure_s, noise_s=settings.noise_s,
                                   step_timeout_s=settings.step_timeout_s, gravity_m_s2=settings.gravity_m_s2)

    @property
    def done(self) -> bool:
        return self.tracker.done

    def feed(self, batch) -> None:
        self.tracker.feed_batch(batch)

    def run(self, link, poll_s: float = 0.05, stall_s: float = 5.0) -> None:
        """Stream from ``link`` until every step is done (stops the stream in any case)."""
        # the stream's first frame index, pinned by START: the empty lead-in is never skipped
        idx = link.start()
        try:
            while not self.done:
                link.wait_frames(1, timeout_s=stall_s, since=idx)
                batch, idx = link.frames(idx)
                self.feed(batch)
                if not self.done:
                    time.sleep(poll_s)
        finally:
            try:
                link.stop()
            except RigError:  # the board may be gone; the error that stopped us is what matters
                pass

    # -- events ------------------------------------------------------------------------------
    def _event(self, kind: str, step: S.Step, info: dict) -> None:
        if kind == "step":
            n, k = info["count"], info["index"]
            if step.kind == S.ZERO:
                self.ui.say(f"[{k + 1}/{n}] Keep the board empty and still: zeroing...")
            elif step.kind == S.NOISE:
                self.ui.say(f"[{k + 1}/{n}] Place {step.describe()} and leave it "
                            f"{self.s.noise_s:g} s for the noise floor (nobody touching the board).")
            else:
                self.ui.say(f"[{k + 1}/{n}] Place {step.describe()}.")
        elif kind == "status":
            w = info["window"]
            wiring.check_status(w.timed_out, w.saturated, "empty board")
        elif kind == "placed":
            self.ui.say(f"      load detected at {info['t_s']:.1f} s; hold still...")
        elif kind == "lifted_early":
            self.ui.say(f"      lifted before it was measured (at {info['t_s']:.1f} s): place it again.")
        elif kind == "measured":
            self._measured(step, info["result"])
        elif kind == "lifted":
            self.ui.say("      lifted; waiting for the empty board to settle...")

    def _measured(self, step: S.Step, res: StepResult) -> None:
        w = res.window
        if step.kind == S.ZERO:
            wiring.check_status(w.timed_out, w.saturated, "empty board")
            if self.s.previous_offsets is not None:
                shift_n = float(np.sum(w.mean_counts - self.s.previous_offsets)) / self.s.nominal_gain
                if abs(shift_n) > NOT_EMPTY_N:
                    msg = (f"the empty board reads {shift_n:+.0f} N against the previous calibration: "
                           "was something on it while zeroing?")
                    self.warnings.append(msg)
                    self.ui.say("      Warning: " + msg)
            self.ui.say(f"      zeroed over {w.t1_s - w.t0_s:.1f} s (noise "
                        + ", ".join(f"{v / self.s.nominal_gain:.2f}" for v in w.sd_counts) + " N per cell).")
            return
        where = step.describe()
        wiring.check_status(w.timed_out, w.saturated, where)
        cx, cy = S.mark_mm("centre", self.s.positions_mm)
        if abs(step.x_mm - cx) < 1e-6 and abs(step.y_mm - cy) < 1e-6:
            expected = step.mass_kg * self.s.gravity_m_s2 / 4 * self.s.nominal_gain
            wiring.check_response(res.window.mean_counts - res.empty_before.mean_counts, np.full(4, expected), where)
        self.ui.say(f"      measured over {w.t1_s - w.t0_s:.1f} s: lift the mass.")
        self.after_measured(step, res)

    def after_measured(self, step, res) -> None:
        pass

    def placements(self) -> list[StepResult]:
        return [r for r in self.tracker.results if r.step.kind != S.ZERO]


class CalibrationProcedure(_Runner):
    """The full guided calibration (see module docstring)."""

    def __init__(self, settings: Settings, ui, board_id: str, firmware: str):
        steps = S.calibration_steps(settings.mass_kg, settings.positions_mm, settings.linearity_kg,
                                    settings.grid, settings.noise_kg)
        super().__init__(steps, settings, ui)
        self.board_id = board_id
        self.firmware = firmware
        self.channel = np.arange(4)

    def after_measured(self, step, res) -> None:
        if step.label == S.BASE_ORDER[-1]:
            corners = {r.step.label: r for r in self.tracker.results if r.step.label in wiring.CORNERS}
            corners[step.label] = res
            d = np.array([corners[c].window.mean_counts - corners[c].empty_before.mean_counts
                          for c in wiring.CORNERS])
            self.channel = wiring.corner_channel_map(d)
            if not np.array_equal(self.channel, np.arange(4)):
                self.ui.say("      " + wiring.remap_message(self.channel) + " (a remap is offered at the end)")

    # -- the result --------------------------------------------------------------------------
    def result(self, now_utc: str | None = None) -> Calibration:
        """Fit and build the calibration (asks about a remap if cells are in the wrong corners)."""
        if not self.done:
            raise CalibrationError("the calibration procedure did not finish")
        remapped = not np.array_equal(self.channel, np.arange(4))
        if remapped:
            msg = wiring.remap_message(self.channel)
            if not self.ui.confirm(f"{msg}. Write a remap to the calibration file (the software reads "
                                   "each cell from the channel it is plugged into)?", True):
                raise wiring.WiringFault(f"{msg}: re-plug the cells and calibrate again")
            self.notes.append(msg + "; remapped in software")
        ch = self.channel
        s = self.s
        zero = self.tracker.results[0].window
        fit_steps = [r for r in self.placements() if r.step.kind in (S.PLACE, S.LINEARITY)]
        counts = np.array([r.delta_counts()[ch] for r in fit_steps])
        masses = np.array([r.step.mass_kg for r in fit_steps])
        marks = np.array([[r.step.x_mm, r.step.y_mm] for r in fit_steps])
        fit = fit_gains(counts, masses, marks, s.positions_mm, s.gravity_m_s2)
        gains = fit.gain_counts_per_n
        weight = masses * s.gravity_m_s2
        if np.max(np.abs(fit.force_residual_n) / weight) > FORCE_WARN_FRACTION:
            self.warnings.append(f"force residuals up to {np.max(np.abs(fit.force_residual_n)):.2f} N: "
                                 "were the masses and marks right? is the top rigid and level?")
        if np.max(fit.cop_error_mm) > COP_WARN_MM:
            self.warnings.append(f"COP errors up to {np.max(fit.cop_error_mm):.1f} mm after the fit: check the "
                                 "cell positions in the file and the marks")
        placements = []
        for r, res_n, err, exy in zip(fit_steps, fit.force_residual_n, fit.cop_error_mm, fit.cop_error_xy_mm):
            placements.append({
                "step": r.step.label, "mass_kg": r.step.mass_kg, "x_mm": r.step.x_mm, "y_mm": r.step.y_mm,
                "t_start_s": round(r.window.t0_s, 3), "duration_s": round(r.window.t1_s - r.window.t0_s, 3),
                "force_residual_n": round(float(res_n), 4), "cop_error_mm": round(float(err), 4),
                "cop_error_x_mm": round(float(exy[0]), 4), "cop_error_y_mm": round(float(exy[1]), 4),
            })
        data = {
            "schema": SCHEMA_VERSION,
            "board_id": self.board_id,
            "nominal": False,
            "created_utc": now_utc or utc_now_iso(),
            "calibrated_by": s.calibrated_by,
            "firmware": self.firmware,
            "tare_at_start": False,
            "gravity_m_s2": s.gravity_m_s2,
            "method": "known masses at known marks; per-cell gains by least squares over all placements "
                      "(sum of forces = m g, COP = mark); offsets from the empty board",
            "cells": {
                "order": list(CELL_NAMES),
                "positions_mm": [[float(v) for v in p] for p in s.positions_mm],
                "offset_counts": [round(float(v), 1) for v in zero.mean_counts[ch]],
                "gain_counts_per_n": [round(float(v), 4) for v in gains],
                "channel": [int(c) for c in ch],
            },
        }
        correction = self._affine_correction(fit_steps, counts / gains, marks)
        data["correction"] = correction
        data["fit"] = fit.summary() | {
            "gain_vs_nominal_percent": [round(float(v), 3) for v in (gains / s.nominal_gain - 1) * 100]}
        data["placements"] = placements
        centre = [i for i, r in enumerate(fit_steps) if r.step.label == "centre" or r.step.kind == S.LINEARITY]
        if len({masses[i] for i in centre}) >= 2:
            data["linearity"] = linearity((counts[centre] / gains).sum(axis=1), masses[centre], s.gravity_m_s2)
        noise = [r for r in self.placements() if r.step.kind == S.NOISE]
        if noise:
            r = noise[0]
            t, raw = self.tracker.t[r.window.i0:r.window.i1], self.tracker.raw[r.window.i0:r.window.i1]
            off = r.offsets_counts()
            forces = (raw[:, ch] - off[ch]) / gains
            data["noise_floor"] = noise_floor(t, forces, s.positions_mm, r.step.mass_kg)
        data["drift"] = self._drift(zero, gains)
        data["wiring"] = {"remapped": bool(remapped), "notes": list(self.notes)}
        return Calibration(data)

    def _affine_correction(self, fit_steps, forces, marks) -> dict:
        """Leach-style linear COP correction, fitted when a grid was placed and only if it helps."""
        none = {"model": "none"}
        if len(fit_steps) < 9:
            return none
        cop = cop_mm(forces, self.s.positions_mm)
        a = np.column_stack([np.ones(len(cop)), cop[:, 0], cop[:, 1]])
        err = marks - cop
        cx, *_ = np.linalg.lstsq(a, err[:, 0], rcond=None)
        cy, *_ = np.linalg.lstsq(a, err[:, 1], rcond=None)
        before = np.sqrt(np.mean(np.sum(err ** 2, axis=1)))
        after_err = err - np.column_stack([a @ cx, a @ cy])
        after = np.sqrt(np.mean(np.sum(after_err ** 2, axis=1)))
        if before - after < 0.2:  # mm: not worth a model
            return none | {"grid_cop_rms_mm": round(float(before), 4)}
        return {"model": "affine", "cop_x_mm": [round(float(v), 6) for v in cx],
                "cop_y_mm": [round(float(v), 6) for v in cy],
                "grid_cop_rms_mm": round(float(before), 4), "corrected_cop_rms_mm": round(float(after), 4)}

    def _drift(self, zero, gains) -> dict:
        ch = self.channel
        t = self.tracker.t[zero.i0:zero.i1]
        raw = self.tracker.raw[zero.i0:zero.i1][:, ch]
        slope_zero = np.polyfit(t - t.mean(), raw, 1)[0] if len(t) > 2 else np.zeros(4)
        empties = self.tracker.empties
        tm = np.array([e.t_mid_s for e in empties])
        means = np.array([e.mean_counts[ch] for e in empties])
        slope_all = np.polyfit(tm - tm.mean(), means, 1)[0] if len(empties) >= 2 else np.zeros(4)
        n_per_min = slope_all / gains * 60
        if np.max(np.abs(n_per_min)) > DRIFT_WARN_N_PER_MIN:
            self.warnings.append(f"zero drifted up to {np.max(np.abs(n_per_min)):.2f} N/min during the calibration: "
                                 "let the board warm up, keep it out of draughts and sun")
        return {
            "zero_n_per_min": [round(float(v), 4) for v in slope_zero / gains * 60],
            "session_n_per_min": [round(float(v), 4) for v in n_per_min],
            "session_duration_s": round(float(tm[-1] - tm[0]), 2) if len(tm) else 0.0,
        }


# -- spot check ------------------------------------------------------------------------------
@dataclass
class CheckResult:
    label: str
    mass_kg: float
    mark_mm: tuple[float, float]
    force_n: float
    force_error_percent: float
    cop_mm: tuple[float, float]
    cop_error_mm: float
    passed: bool


class SpotCheck(_Runner):
    """One known mass at the centre and off-centre, judged against tolerances."""

    def __init__(self, cal: Calibration, mass_kg: float, ui, force_tol_percent: float = 1.0,
                 cop_tol_mm: float = 2.0, step_timeout_s: float = 300.0):
        settings = Settings(mass_kg=mass_kg, positions_mm=cal.positions_mm, step_timeout_s=step_timeout_s,
                            nominal_gain=float(np.mean(cal.gain_counts_per_n)),
                            gravity_m_s2=float(cal.data.get("gravity_m_s2", STANDARD_GRAVITY_M_S2)))
        super().__init__(S.check_steps(mass_kg, cal.positions_mm), settings, ui)
        self.cal = cal
        self.force_tol = force_tol_percent
        self.cop_tol = cop_tol_mm

    def results(self) -> list[CheckResult]:
        if not self.done:
            raise CalibrationError("the spot check did not finish")
        out = []
        cal = self.cal
        for r in self.placements():
            # zero from the empty board around the placement, as a recording tares at its start
            raw = r.window.mean_counts[cal.channel]
            off = r.offsets_counts()[cal.channel]
            forces = (raw - off) / cal.gain_counts_per_n
            total = float(forces.sum())
            cop = cop_mm(forces[None, :], cal.positions_mm)[0]
            cop = np.array(cal.correct_cop(cop[0], cop[1]), dtype=float)
            weight = r.step.mass_kg * self.s.gravity_m_s2
            f_err = (total - weight) / weight * 100
            c_err = float(np.hypot(cop[0] - r.step.x_mm, cop[1] - r.step.y_mm))
            out.append(CheckResult(r.step.label, r.step.mass_kg, (r.step.x_mm, r.step.y_mm), total, f_err,
                                   (float(cop[0]), float(cop[1])), c_err,
                                   abs(f_err) <= self.force_tol and c_err <= self.cop_tol))
        return out
