"""Run a protocol on the board: zero, wait for the athlete, count down, record, check, repeat.

The runner is one loop in the caller's thread that polls the link at display rate (~30 Hz) and
drives a user interface (headless text or the live view, ``rig.session.ui``). All timing is board
time (the frames' ``t_s``), never the host clock, so a simulated board at ``speed=20`` runs a
protocol exactly as a real one, only faster.

A trial: the athlete steps on and takes the stance (for single-leg stances the COP must be over
the stance foot's mark, which also catches the wrong foot); once the stance has been held for
``SETTLE_S`` the countdown runs (a beep each second); the trial records the lead-in (discarded)
and the trial duration, then ends by itself. The trial is checked (``rig.engine.validity``); an
invalid trial is filed as invalid, with its reasons, and repeated (asked interactively, or up to
``max_repeats`` times per condition when scripted). Between trials the athlete steps off and
rests; the empty board is zeroed again then, so slow drift of the cells never accumulates.

Every frame of a trial goes to the crash-safe journal (``rig.store``) as it arrives; a board
lost mid-trial or Ctrl-C keeps the trial as incomplete and the session as it is.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from rig.engine import stance as stance_marks
from rig.engine.aggregate import counted, trial_means
from rig.session.results import G_M_S2, SessionResult, TrialResult  # noqa: F401  (re-exported)
from rig.frames import FrameBatch
from rig.calibration.align import StreamAligner
from rig.calibration.apply import forces_and_cop
from rig.errors import AnalysisError, DisconnectError, RigError
from rig.engine.preprocess import PreprocessOptions

POLL_S = 1 / 30            # display rate: the loop wakes this often (wall time)
SETTLE_S = 1.0             # stance held this long (board time) before the countdown
TARE_S = 0.5               # empty-board window for zeroing
EMPTY_N = 60.0             # below this total force (tared) nobody is on the board
ON_FRACTION = 0.5          # on the board: total force above this share of body weight
                           # (not more: a wrong entered mass must be caught by the weight rule,
                           # not leave the runner waiting for an athlete who is already on)
OFF_FRACTION = 0.2         # stepped off: total force below this share of body weight
SIDE_MM = 40.0             # single-leg: COP at least this far towards the stance foot's mark
LANDING_PRE_S = 0.5        # a landing trial keeps this much before the impact
BUFFER_S = 12.0            # rolling buffer for detection and the live view
WAIT_LIMIT_S = 120.0       # board time any wait for the athlete or the board may take
MAX_COUNTDOWN_RESTARTS = 10  # a stance lost this often in the countdown ends the wait
STALL_S = 10.0             # host seconds without a frame: the board has gone quiet


class Stopped(RigError):
    """The operator stopped the session (Ctrl-C, SIGTERM or closed the window)."""

    exit_code = 130     # rig.session.interrupts.EXIT_INTERRUPTED, the same for every command


class WaitTimeout(RigError):
    """What the runner waited for did not happen within ``WAIT_LIMIT_S`` of board time."""


@dataclass
class Samples:
    """Calibrated board data: board time (s), counts by channel (aligned to the frame instants,
    float), cell forces (N), total force, COP (mm)."""

    t_s: np.ndarray
    raw: np.ndarray
    forces_n: np.ndarray
    fz_n: np.ndarray
    x_mm: np.ndarray
    y_mm: np.ndarray

    @classmethod
    def empty(cls) -> "Samples":
        z = np.zeros(0)
        return cls(z, np.zeros((0, 4), np.int32), np.zeros((0, 4)), z, z, z)

    def __len__(self) -> int:
        return len(self.t_s)

    def cat(self, other: "Samples") -> "Samples":
        return Samples(*(np.concatenate([a, b]) for a, b in zip(self.fields(), other.fields())))

    def fields(self):
        return (self.t_s, self.raw, self.forces_n, self.fz_n, self.x_mm, self.y_mm)

    def since(self, t0_s: float) -> "Samples":
        i = int(np.searchsorted(self.t_s, t0_s))
        return Samples(*(a[i:] for a in self.fields()))

    def between(self, t0_s: float, t1_s: float) -> "Samples":
        i, j = np.searchsorted(self.t_s, [t0_s, t1_s])
        return Samples(*(a[i:j] for a in self.fields()))

    def upto(self, t_s: float) -> "Samples":
        """The samples at or before board time ``t_s`` (what the board had shown by then)."""
        j = int(np.searchsorted(self.t_s, t_s, side="right"))
        return Samples(*(a[:j] for a in self.fields()))


class BoardFeed:
    """New frames from the link, calibrated and tared, in a rolling buffer (board time)."""

    def __init__(self, link, calibration):
        self.link = link
        self.cal = calibration
        self.next_index = 0
        self.buffer = Samples.empty()
        # board time from which the runner has samples still to judge (inf: none, e.g. rig live):
        # the buffer keeps BUFFER_S before it too, so a poll that brings more than BUFFER_S (a
        # busy host, a fast simulated board) never drops what the runner has not looked at
        self.judged_s = math.inf
        self.recent: list[FrameBatch] = []     # the raw frames behind ``buffer``
        self.aligner = StreamAligner()          # cells on the frame instants (wire v2 ages)

    def poll(self) -> tuple[FrameBatch, Samples]:
        """New frames (as received: for the journal) and the calibrated samples now ready:
        cells aligned to the frame instants, so the newest frame waits for its successor."""
        batch, self.next_index = self.link.frames(self.next_index)
        if not len(batch):
            return batch, Samples.empty()
        ready, counts = self.aligner.push(batch)
        self.recent.append(batch)
        if not len(ready):
            return batch, Samples.empty()
        s = self._samples(ready.t_s.copy(), counts)
        self.buffer = self.buffer.cat(s)
        if len(self.buffer) and self.buffer.t_s[-1] - self.buffer.t_s[0] > BUFFER_S * 1.5:
            self.buffer = self.buffer.since(min(float(self.buffer.t_s[-1]), self.judged_s) - BUFFER_S)
            first = self.buffer.t_s[0]
            self.recent = [b for b in self.recent if b.t_s[-1] >= first]
        return batch, s

    def frames_since(self, t0_s: float) -> FrameBatch:
        """The raw frames received with board time >= ``t0_s`` (still in the rolling buffer)."""
        if not self.recent:
            return FrameBatch.concat([])
        allf = FrameBatch.concat(self.recent)
        return allf[int(np.searchsorted(allf.t_s, t0_s)):]

    def retare(self, raw_window) -> None:
        self.cal = self.cal.tare(raw_window)
        self.buffer = self._samples(self.buffer.t_s, self.buffer.raw)

    def _samples(self, t_s, raw) -> Samples:
        c = forces_and_cop(self.cal, raw)
        return Samples(t_s, raw, c.forces_n, c.fz_n, c.cop_x_mm, c.cop_y_mm)

    @property
    def now_s(self) -> float:
        return float(self.buffer.t_s[-1]) if len(self.buffer) else math.nan


class Runner:
    """One session of ``protocol`` for ``athlete`` on an open ``link``; see the module docstring."""

    def __init__(self, protocol, link, calibration, store, ui, *, athlete: str, entries=None,
                 mass_kg: float | None = None, foot_length_mm: float = stance_marks.FOOT_LENGTH_MM,
                 foot_width_mm: float = stance_marks.FOOT_WIDTH_MM, interactive: bool = False,
                 max_repeats: int = 2, snapshot=None, port: str = "", meta: dict | None = None,
                 resume_sid: str | None = None, prior_trials=()):
        self.p = protocol
        self.link = link
        self.store = store
        self.ui = ui
        self.athlete = athlete
        self.entries = entries
        self.mass_kg = mass_kg
        self.body_weight_n = mass_kg * G_M_S2 if mass_kg else None
        self.foot_length_mm, self.foot_width_mm = foot_length_mm, foot_width_mm
        self.interactive = interactive
        self.max_repeats = max_repeats
        self.snapshot = snapshot
        self.port = port
        self.meta = dict(meta or {})
        self.feed = BoardFeed(link, calibration)
        self.calibration = calibration
        self.sid: str | None = None
        self.result: SessionResult | None = None
        self._rec = None
        self._last_frame_wall: float | None = None
        self._t_phase: float | None = None     # board time at which the previous phase ended
        # resuming an incomplete session (``rig run --resume``): its id and the trials it has
        self.resume_sid = resume_sid
        self.prior_trials = list(prior_trials)

    # -- the loop ------------------------------------------------------------------------------
    def _tick(self) -> Samples:
        """One poll: new frames (journaled if a trial records), the UI fed, errors raised.

        A board that sends nothing for ``STALL_S`` host seconds ends the wait with an error:
        host time bounds only a silent board; everything else is bounded in board time."""
        wall = time.monotonic()
        batch, new = self.feed.poll()
        if self._rec is not None:
            self._rec.check()      # journaled in the link's reader thread; a failure stops now
        self.link.check()
        if len(batch) or self._last_frame_wall is None:
            self._last_frame_wall = wall
        elif wall - self._last_frame_wall > STALL_S:
            raise RigError(f"port {self.link.url}: the board sent no data for {STALL_S:g} s "
                           f"(stalled or unplugged?) after {self.link.frame_count} frames")
        why = self.ui.stop_reason()      # Ctrl-C, SIGTERM, window closed: a flag (rig.session.interrupts)
        if why:
            raise Stopped(why)
        self.ui.process_events()
        time.sleep(max(0.0, POLL_S - (time.monotonic() - wall)))
        return new

    def _show(self, s: Samples, elapsed_s=None, remaining_s=None):
        self.ui.update(s.t_s, s.x_mm, s.y_mm, s.forces_n, s.fz_n, elapsed_s, remaining_s)

    def _wait(self, until, phase: str | None = None, tail_s: float = 5.0, what: str | None = None,
              limit_s: float = WAIT_LIMIT_S) -> float:
        """Poll until ``until(buffer)`` is true; shows the last ``tail_s`` s. Returns the board
        time at which it first held.

        Every sample since the previous phase ended is checked as the end of the data, in
        order, so the answer is the same board time however late the loop looked: a slow or
        busy host gives the same session as a fast one.
        Bounded: after ``limit_s`` of board time raises ``WaitTimeout`` naming ``what`` was
        awaited (default: ``phase``) and what the board showed."""
        if phase:
            self.ui.phase(phase)
        t0 = None
        checked = self._t_phase          # samples up to here belong to the previous phase
        while True:
            self.feed.judged_s = -math.inf if checked is None else checked
            self._tick()
            buf = self.feed.buffer
            if not len(buf):
                continue
            self._show(buf.since(buf.t_s[-1] - tail_s))
            i0 = 0 if checked is None else int(np.searchsorted(buf.t_s, checked, side="right"))
            for i in range(i0, len(buf)):
                t = float(buf.t_s[i])
                if until(buf.upto(t)):
                    self._t_phase = t
                    return t
            if i0 < len(buf):
                checked = float(buf.t_s[-1])
                t0 = float(buf.t_s[i0]) if t0 is None else t0
            if t0 is not None and buf.t_s[-1] - t0 > limit_s:
                raise WaitTimeout(f"waited {limit_s:g} s of board time for: {what or phase or 'the board'}; "
                                  f"the board showed {self._board_state(buf)}")

    def _board_state(self, buf: Samples) -> str:
        """One line: the last second's load and COP, for a wait that timed out."""
        w = buf.since(buf.t_s[-1] - 1.0)
        kg = float(np.mean(w.fz_n)) / G_M_S2
        with np.errstate(all="ignore"):
            x, y = np.nanmean(w.x_mm), np.nanmean(w.y_mm)
        if not np.isfinite(x):
            return f"{kg:.1f} kg (nobody on the board)"
        side = "right" if x > SIDE_MM else "left" if x < -SIDE_MM else "centre"
        return f"{kg:.1f} kg with the COP at x {x:+.0f} mm ({side}), y {y:+.0f} mm"

    def _wait_board_s(self, seconds: float, text, tail_s: float = 5.0, abort_if=None, t0_s=None):
        """Let ``seconds`` of board time pass from ``t0_s`` (default: the end of the previous
        phase), showing ``text(remaining_s)``; True if completed, False if
        ``abort_if(samples of the span)`` returned a board time (the abort's). Only the span's
        own samples are judged, so the outcome does not depend on when the loop looked."""
        while not len(self.feed.buffer):
            self._tick()
        if t0_s is not None:
            t0 = t0_s
        else:
            t0 = self._t_phase if self._t_phase is not None else self.feed.now_s
        end = t0 + seconds
        last_whole = None
        self.feed.judged_s = t0          # the span from t0 is judged again at every poll
        while True:
            self._tick()
            buf = self.feed.buffer
            left = end - buf.t_s[-1]
            whole = math.ceil(left)
            if whole != last_whole and left > 0:
                self.ui.phase(text(whole), countdown_s=left)
                last_whole = whole
            self._show(buf.since(buf.t_s[-1] - tail_s), remaining_s=max(left, 0.0))
            t_abort = abort_if(buf.between(t0, end)) if abort_if is not None else None
            if t_abort is not None:
                self._t_phase = t_abort  # the next phase is judged from the abort on
                return False
            if left <= 0:
                self._t_phase = end
                return True

    # -- detection -----------------------------------------------------------------------------
    def _empty_for(self, buf: Samples, seconds: float) -> bool:
        if not len(buf) or buf.t_s[-1] - buf.t_s[0] < seconds:
            return False
        w = buf.since(buf.t_s[-1] - seconds)
        limit = EMPTY_N if self.body_weight_n is None else max(EMPTY_N, OFF_FRACTION * self.body_weight_n)
        return bool(np.all(np.abs(w.fz_n) < limit))

    def _steady_for(self, buf: Samples, seconds: float) -> bool:
        """Nothing changes on the board (empty, or a dead weight): safe to zero."""
        if not len(buf) or buf.t_s[-1] - buf.t_s[0] < seconds:
            return False
        w = buf.since(buf.t_s[-1] - seconds)
        return float(np.ptp(w.fz_n)) < 15.0

    def _in_stance(self, buf: Samples, cond, seconds: float) -> bool:
        if not len(buf) or buf.t_s[-1] - buf.t_s[0] < seconds:
            return False
        w = buf.since(buf.t_s[-1] - seconds)
        bw = self.body_weight_n
        if bw is None:
            if np.any(w.fz_n < 200.0) or np.ptp(w.fz_n) > 0.15 * np.mean(w.fz_n):
                return False
        elif np.any(w.fz_n < ON_FRACTION * bw):
            return False
        if cond.side:
            mark = stance_marks.feet(cond.stance)[cond.side].centre_x_mm
            x = w.x_mm
            if not np.all(np.isfinite(x)) or np.any(np.sign(mark) * x < SIDE_MM):
                return False
        return True

    def _stance_mask(self, w: Samples, cond) -> np.ndarray:
        """Per sample: weight on the board, and for single-leg stances the COP over the foot."""
        ok = w.fz_n >= (ON_FRACTION * self.body_weight_n if self.body_weight_n else 200.0)
        if cond.side:
            mark = stance_marks.feet(cond.stance)[cond.side].centre_x_mm
            with np.errstate(invalid="ignore"):
                ok &= np.isfinite(w.x_mm) & (np.sign(mark) * w.x_mm >= SIDE_MM)
        return ok

    def _ready_at(self, buf: Samples, cond) -> float | None:
        """Board time at which the stance had been held for SETTLE_S (None: not yet).

        Taken from the samples, not from when the loop noticed, so the countdown and the
        trial window do not depend on the host's timing (same data, same trial)."""
        if not len(buf):
            return None
        ok = self._stance_mask(buf, cond)
        if not ok[-1]:
            return None
        bad = np.flatnonzero(~ok)
        start = buf.t_s[bad[-1] + 1] if bad.size else buf.t_s[0]
        ready = float(start) + SETTLE_S
        return ready if buf.t_s[-1] >= ready else None

    def _first_out_of_stance(self, s: Samples, cond) -> float | None:
        """Board time of the first sample of ``s`` out of the stance (None: all in stance)."""
        ok = self._stance_mask(s, cond)
        return None if ok.all() else float(s.t_s[int(np.argmin(ok))])

    def _wrong_foot(self, buf: Samples, cond) -> bool:
        if not cond.side or not len(buf):
            return False
        w = buf.since(buf.t_s[-1] - 0.5)
        mark = stance_marks.feet(cond.stance)[cond.side].centre_x_mm
        bw = self.body_weight_n or 400.0
        return bool(np.all(w.fz_n > ON_FRACTION * bw) and np.all(np.sign(mark) * w.x_mm < -SIDE_MM))

    # -- phases --------------------------------------------------------------------------------
    def zero(self, first: bool) -> None:
        """Zero the cells on an empty, steady board (asks the athlete to step off if needed)."""
        if first:
            self.ui.phase("Zeroing: keep the board empty")
        if first:
            ok = lambda b: self._steady_for(b, TARE_S) and self._looks_empty(b)
        else:   # the athlete has left: force near the last zero, and nothing moving
            ok = lambda b: self._steady_for(b, TARE_S) and self._empty_for(b, TARE_S)
        t = self._wait(ok, None if first else "Step off the board",
                       what="an empty, steady board for zeroing")
        w = self.feed.buffer.upto(t).since(t - TARE_S)
        drift_n = float(np.mean(w.fz_n))
        self.feed.retare(w.raw)
        if not first and abs(drift_n) > 5.0:
            self.ui.message(f"zero drifted by {drift_n:+.1f} N since the last zeroing; re-zeroed", "info")

    def _looks_empty(self, buf: Samples) -> bool:
        """Before the first zeroing: no weight beyond what the calibration's own zero allows."""
        w = buf.since(buf.t_s[-1] - TARE_S)
        if self.calibration.is_nominal:
            return float(np.mean(np.abs(w.fz_n))) < 400.0     # nominal offsets are only rough
        return float(np.mean(np.abs(w.fz_n))) < EMPTY_N

    def _weigh(self, cond) -> None:
        """Body weight from the first stance held still (when the clinician did not enter it)."""
        if self.body_weight_n is not None:
            return
        t = self._wait(lambda b: self._in_stance(b, cond, SETTLE_S + 0.5),
                       "Step on the board for weighing",
                       what=f"the athlete to stand still for weighing ({self._instruction(cond)})")
        w = self.feed.buffer.upto(t).since(t - SETTLE_S)
        self.body_weight_n = float(np.mean(w.fz_n))
        self.mass_kg = self.body_weight_n / G_M_S2
        self.meta["body_mass_measured_kg"] = round(self.mass_kg, 1)
        self.ui.message(f"body mass measured on the board: {self.mass_kg:.1f} kg", "info")

    def _take_stance(self, cond) -> None:
        instr = self._instruction(cond)
        self.ui.phase(instr)

        def ready(buf):
            # shown while the athlete is on the wrong foot, gone at the next frame once not
            self.ui.status("wrong_foot", f"wrong foot: stand on the {cond.side} foot"
                           if self._wrong_foot(buf, cond) else None)
            return self._ready_at(buf, cond) is not None

        t = self._wait(ready, what=instr)
        self.ui.status("wrong_foot", None)
        return self._ready_at(self.feed.buffer.upto(t), cond)

    @staticmethod
    def _instruction(cond) -> str:
        if cond.kind not in ("static", "landing"):      # chain tests: their own words
            from rig.session.movement_trials import instruction

            return instruction(cond)
        what = {"bipedal": "Stand on both feet", "tandem": "Stand heel to toe, left foot behind",
                "single_left": "Stand on the LEFT foot", "single_right": "Stand on the RIGHT foot"}
        eyes = "eyes CLOSED" if cond.eyes == "closed" else "eyes open"
        surface = ", on the foam pad" if cond.surface == "foam" else ""
        return f"{what.get(cond.stance, cond.stance)}, {eyes}{surface}, hands on hips"

    # -- one trial -----------------------------------------------------------------------------
    def run_trial(self, cond, index: int, practice: bool) -> TrialResult:
        label = f"{cond.label}: {'practice' if practice else f'trial {index}'}"
        feet = stance_marks.feet(cond.stance, self.foot_length_mm, self.foot_width_mm)
        if cond.kind not in ("static", "landing"):      # chain tests (issue 13): squat, lunge, ...
            from rig.session import movement_trials

            return movement_trials.run_trial(self, cond, index, practice)
        self.ui.set_trial(label, feet, cond.trial_duration_s)
        if cond.kind == "landing":
            self._weigh_for_landing()
            samples, window, rec_t0 = self._record_landing(cond, index, practice)
        else:
            t_ready = self._stance_and_countdown(cond, label)
            self.ui.beep()
            samples, window, rec_t0 = self._record_static(cond, index, practice, label,
                                                          t_ready + cond.countdown_s)
        return self._finish_trial(cond, index, practice, samples, window)

    def _stance_and_countdown(self, cond, label: str) -> float:
        """Weigh if needed, wait for the stance, count down (restarted if the stance is lost,
        at most ``MAX_COUNTDOWN_RESTARTS`` times); returns the board time at which the stance
        was ready (the countdown ran from it)."""
        restarts = 0
        while True:
            if restarts > MAX_COUNTDOWN_RESTARTS:
                raise WaitTimeout(f"{label}: the stance was lost during the countdown "
                                  f"{restarts} times; the trial could not start")
            restarts += 1
            self._weigh(cond)
            t_ready = self._take_stance(cond)
            # every sample of the countdown span is judged, from the samples: at a fast
            # simulated speed a short touch-down can fall between two polls
            left = lambda b: self._first_out_of_stance(b, cond)
            if self._wait_board_s(cond.countdown_s, lambda s: f"{label}: {s}", abort_if=left,
                                  t0_s=t_ready):
                return t_ready
            self.ui.message("stance lost during the countdown: again", "warn")

    def _begin_recording(self, cond, index, practice, seed=None):
        stats0 = self.link.stats.as_dict()
        self._stats0 = stats0
        self._rec = self.store.begin_trial(self.sid, self.p.condition_dict(cond), index, practice,
                                           stats_source=lambda: self.link.stats.as_dict())
        # from here every frame is journaled in the link's reader thread as it arrives
        self._rec.attach(self.link, since=self.feed.next_index, seed=seed)
        return self._rec

    def _record_static(self, cond, index, practice, label, t0: float):
        """Record from board time ``t0`` (the end of the countdown; frames since are journaled)."""
        self._begin_recording(cond, index, practice, seed=self.feed.frames_since(t0))
        total = cond.lead_in_s + cond.trial_duration_s
        collected = self.feed.buffer.since(t0)
        self.ui.phase(f"{label}: recording")
        end = t0 + total
        while True:
            self.feed.judged_s = end     # the recording keeps its own samples; the next phase starts at its end
            new = self._tick()
            collected = collected.cat(new.since(t0))
            elapsed = (collected.t_s[-1] - t0) if len(collected) else 0.0
            self._show(collected, elapsed_s=elapsed, remaining_s=max(total - elapsed, 0.0))
            off_at = self._off_board_at(collected.upto(end))
            if off_at is not None:
                end = off_at       # off the board: no point recording on (the trial is invalid)
                break
            if elapsed >= total:
                break
        self._t_phase = end
        self.ui.beep()
        window = (t0 + cond.lead_in_s, t0 + total)
        return collected, window, t0

    def _off_board_at(self, s: Samples, hold_s: float = 0.5) -> float | None:
        """Board time at which the athlete had been off the board (below ``OFF_FRACTION`` of
        body weight) for ``hold_s``, from the samples (None: not so)."""
        if not self.body_weight_n or len(s) < 2:
            return None
        off = s.fz_n < OFF_FRACTION * self.body_weight_n
        if not off.any():
            return None
        # start of each run of off samples, carried forward to every sample of the run
        starts = np.where(off & ~np.concatenate([[False], off[:-1]]), s.t_s, -np.inf)
        run_start = np.maximum.accumulate(starts)
        long = np.flatnonzero(off & (s.t_s - run_start >= hold_s))
        return float(s.t_s[long[0]]) if long.size else None

    def _weigh_for_landing(self) -> None:
        if self.body_weight_n is None:
            raise RigError("a landing trial needs the body mass: give --mass-kg")

    def _record_landing(self, cond, index, practice):
        t_empty = self._wait(lambda b: self._empty_for(b, 0.5), "Step off: the hop starts off the board")
        self.ui.phase(f"Hop onto the board and land on the {cond.side.upper()} foot; hold {cond.trial_duration_s:g} s")
        rec = self._begin_recording(cond, index, practice)
        early = self.feed.frames_since(t_empty)   # frames since the board was empty: journaled too
        if len(early):
            rec.append(early)
        bw = self.body_weight_n
        land_t = None
        collected = self.feed.buffer.since(t_empty)
        t_wait0 = None
        while True:
            # the next phase is judged from the trial's end on (before the landing: all of it)
            self.feed.judged_s = t_empty if land_t is None else land_t + cond.trial_duration_s
            new = self._tick()
            collected = collected.cat(new)
            if len(new) and land_t is None:
                t_wait0 = float(new.t_s[0]) if t_wait0 is None else t_wait0
                if new.t_s[-1] - t_wait0 > WAIT_LIMIT_S:
                    raise WaitTimeout(f"waited {WAIT_LIMIT_S:g} s of board time for the landing on the "
                                      f"{cond.side} foot; the board showed {self._board_state(self.feed.buffer)}")
            if land_t is None:
                hit = np.flatnonzero(collected.fz_n > 0.5 * bw)
                if hit.size:
                    land_t = float(collected.t_s[hit[0]])
                    self.ui.beep()
                else:
                    collected = collected.since(self.feed.now_s - LANDING_PRE_S)
                    self._show(collected)
                    continue
            elapsed = self.feed.now_s - land_t
            self._show(collected, elapsed_s=elapsed, remaining_s=max(cond.trial_duration_s - elapsed, 0))
            if elapsed >= cond.trial_duration_s:
                break
        self._t_phase = land_t + cond.trial_duration_s
        self.ui.beep()
        window = (land_t - LANDING_PRE_S, land_t + cond.trial_duration_s)
        return collected, window, land_t

    def _finish_trial(self, cond, index, practice, s: Samples, window) -> TrialResult:
        from rig.engine.trial import measured_stretch, trial_measures
        from rig.engine.validity import check_trial, counts_footlifts

        rec, self._rec = self._rec, None
        w = s.between(*window)
        landing = cond.kind == "landing"
        # a landing trial keeps the flight before the impact for the landing measures; the
        # COP measures and the validity rules look at the time on the board, from the impact
        on_board = w.since(window[0] + LANDING_PRE_S) if landing else w
        stats = self.link.stats.as_dict()
        lost = stats.get("frames_lost", 0) - self._stats0.get("frames_lost", 0)
        got = len(s)
        lost_fraction = lost / max(lost + got, 1)
        resets = stats.get("resets", 0) - self._stats0.get("resets", 0)
        reset_gap_s = stats.get("reset_gap_s", 0.0) - self._stats0.get("reset_gap_s", 0.0)
        feet = stance_marks.feet(cond.stance, self.foot_length_mm, self.foot_width_mm)
        processing: dict = {"tare_offset_counts": self.feed.cal.offset_counts.tolist(),
                            "lead_in_s": cond.lead_in_s, "window_s": list(window)}
        # single-leg: foot-lifts counted over the whole trial, COP measures on the quiet stretch
        whole, lifts, counted_lifts = on_board, None, None
        if len(on_board) > 2 and counts_footlifts(cond, self.p.validity, self.body_weight_n):
            stretch = measured_stretch(on_board.t_s, on_board.fz_n, on_board.x_mm, on_board.y_mm,
                                       self.body_weight_n)
            counted_lifts, lifts = stretch.footlifts, stretch.validity_footlifts
            processing.update(stretch.processing)
            if counted_lifts.count:
                q = counted_lifts.quiet_s
                where = (f"; COP measures on the quiet stretch {q[0]:.1f}-{q[1]:.1f} s"
                         if counted_lifts.measurable else "")
                self.ui.message(f"{cond.label}: {counted_lifts.describe()}{where}", "info")
            on_board = Samples(*(a[stretch.slice] for a in on_board.fields()))
        reasons = check_trial(on_board.t_s - on_board.t_s[0], on_board.fz_n, on_board.x_mm, on_board.y_mm,
                              condition=cond, rules=self.p.validity, body_weight_n=self.body_weight_n,
                              feet=feet, lost_fraction=lost_fraction, resets=resets, reset_gap_s=reset_gap_s,
                              footlifts=lifts) if len(on_board) > 2 else \
            ["no data in the trial window"]
        measures: dict[str, float] = {}
        try:
            from rig.engine.sway.landing import landing_measures

            support = stance_marks.base_of_support(cond.stance, self.foot_length_mm, self.foot_width_mm)
            measures, prep = trial_measures(on_board.t_s, on_board.x_mm, on_board.y_mm, on_board.fz_n,
                                            PreprocessOptions(lowpass_hz=self.p.lowpass_hz), foot=support,
                                            body_weight_n=None if landing else self.body_weight_n,
                                            footlifts=counted_lifts, entropy=False)
            processing.update(prep)
            if landing:
                fs = (len(w) - 1) / (w.t_s[-1] - w.t_s[0])
                measures.update(landing_measures(w.fz_n, fs, self.body_weight_n))
        except AnalysisError as e:
            reasons = reasons + [f"cannot analyse: {e}"]
        if getattr(self.p.validity, "error_candidates", False) and self.body_weight_n and len(whole) > 10:
            from rig.engine.validity import bess_error_candidates

            cands = bess_error_candidates(whole.t_s - whole.t_s[0], whole.fz_n, whole.x_mm,
                                          whole.y_mm, condition=cond, body_weight_n=self.body_weight_n,
                                          feet=feet)
            processing["error_candidates"] = cands
            if cands:   # the board proposes, the clinician scores (eyes, hands are not visible to it)
                self.ui.message(f"{len(cands)} error candidate(s) for the clinician to confirm: " + "; ".join(
                    f"{c['t_s']:.1f} s {c['kind']}" for c in cands), "info")
        if self.ui.take_key("repeat"):     # the clinician saw what the board cannot (live view: R)
            reasons = reasons + ["repeat requested by the clinician"]
        status = "valid" if not reasons else "invalid"
        tid = rec.finish(status, reasons, stats, window, measures, processing)
        if self.snapshot:
            self.ui.save_snapshot(self.snapshot, cond, index)
        res = TrialResult(cond.name, index, practice, status, reasons, measures, tid)
        self.ui.trial_done(res, cond)
        return res

    # -- the session ---------------------------------------------------------------------------
    def run(self) -> SessionResult:
        self.p.check_rate(self.link.hello.rate_hz)
        self.store.ensure_athlete(self.athlete)
        h = self.link.hello
        meta = dict(self.meta)
        if self.entries is not None:
            meta["clinical_entries"] = self.entries.as_dict()
        if self.mass_kg:
            meta["body_mass_entered_kg"] = self.mass_kg
        if self.resume_sid:
            self.sid = self.resume_sid
            self.store.set_session_status(self.sid, "open")
        else:
            self.sid = self.store.new_session(
                self.athlete, self.p.as_dict(),
                {"board_id": h.board_id_hex, "firmware": h.firmware_str, "rate_hz": h.rate_hz, "port": self.port},
                self.calibration, meta)
        self.result = SessionResult(self.sid, trials=list(self.prior_trials))
        try:
            self._run_conditions()
        except (KeyboardInterrupt, Stopped, DisconnectError, RigError) as e:
            replaced = self._stop(e)
            if replaced is not None:
                raise replaced from None
            raise
        finally:
            self.ui.phase("Session finished" if self.result.stopped is None else "Session stopped")
        self._conclude()
        return self.result

    def _stop(self, e: BaseException):
        """Keep what was recorded, close the session as incomplete; returns the error to raise
        instead of ``e`` when keeping it failed too (a full disk), else None."""
        from rig.store.recorder import stop_message

        why = "stopped by the operator (Ctrl-C)" if isinstance(e, KeyboardInterrupt) else str(e)
        self.result.stopped = why
        rec, self._rec = self._rec, None
        tid, problem = None, None
        if rec is not None:
            try:
                tid = rec.abort(f"recording stopped: {why}", self.link.stats.as_dict())
            except RigError as err:
                problem = err          # not filed: the journal is kept for `rig recover`
        try:
            self.store.set_session_status(self.sid, "incomplete")
        except RigError as err:
            problem = problem or err   # `rig recover` closes it once there is room
        return stop_message(e, rec, tid, problem)

    def _run_conditions(self) -> None:
        self.feed.next_index = self.link.start()
        self.zero(first=True)
        first = True
        for cond in self.p.conditions:
            before = [t for t in self.prior_trials if t.condition == cond.name]     # resumed session
            valid = sum(t.status == "valid" and not t.practice for t in before)
            repeats = sum(t.status == "invalid" and not t.practice for t in before)
            plan = [] if before else [(True, i + 1) for i in range(cond.practice_trials)]
            for prac, i in plan:
                if not first:
                    self._rest(cond)
                first = False
                self.result.trials.append(self.run_trial(cond, i, True))
            index = 1 + max((t.index for t in before if not t.practice), default=0)
            while valid < cond.trials:
                if not first:
                    self._rest(cond)
                first = False
                try:
                    r = self.run_trial(cond, index, False)
                except WaitTimeout as e:
                    if self._rec is not None:
                        rec, self._rec = self._rec, None
                        rec.abort(str(e), self.link.stats.as_dict())
                    choice = self.ui.ask_after_timeout(str(e), self.interactive)
                    if choice == "retry":
                        continue
                    if choice == "skip":
                        self.ui.message(f"{cond.label}: skipped with {valid} valid trial(s) of {cond.trials}", "warn")
                        break
                    raise
                self.result.trials.append(r)
                index += 1
                if r.status == "valid":
                    valid += 1
                    continue
                if repeats >= self.max_repeats or not self.ui.ask_repeat(r, cond, self.interactive):
                    self.ui.message(f"{cond.label}: moving on with {valid} valid trial(s) of {cond.trials}", "warn")
                    break
                repeats += 1

    def _rest(self, cond) -> None:
        self.zero(first=False)
        if cond.rest_s > 0:     # the clinician's "next" key (live view) ends the rest early
            self._wait_board_s(cond.rest_s, lambda s: f"Rest {s} s",
                               abort_if=lambda b: float(b.t_s[-1]) if len(b) and self.ui.take_key("next") else None)

    # -- results -------------------------------------------------------------------------------
    def _conclude(self) -> None:
        means = condition_means(self.result.trials)
        self.result.side_measures = means
        self.result.body_mass_kg = self.mass_kg
        summary = {"protocol": self.p.name, "demo": bool(getattr(self.p, "demo", False)),
                   "body_mass_kg": round(self.mass_kg, 1) if self.mass_kg else None,
                   "trials": {"valid": sum(t.status == "valid" and not t.practice for t in self.result.trials),
                              "invalid": sum(t.status != "valid" and not t.practice for t in self.result.trials)}}
        from rig.session.scores import protocol_summary

        summary.update(protocol_summary(self.p, means))     # its measures list, Romberg quotients
        flags: list[dict] = []
        if self.p.screening is not None:
            from rig.session.screening import screen, site_or_default

            baseline = self._baseline_measures()
            # the one MDC lookup: the site's measured values first, else the sourced default
            res = screen(self.p.screening, self.entries, side_inputs(self.p, means), baseline,
                         mdc_for=site_or_default(self.store))
            self.result.screening = res
            summary.update(res.summary)
            flags = res.flags
        from rig.session.chain_results import session_summary

        summary.update(session_summary(self.p, self.result.trials))     # chain tests ({} if none)
        self.store.set_session_result(self.sid, summary, flags)
        self.store.set_session_status(self.sid, "complete")

    def _baseline_measures(self):
        """The athlete's baseline session, as screening input (None when there is none)."""
        base = self.store.baseline(self.athlete)
        if base is None or base == self.sid:
            return None
        s = self.store.session(base)
        trials = [TrialResult((t["condition"] or {}).get("name", ""), t["index"], t["practice"],
                              t["status"], t["reasons"], t["measures"]) for t in s["trials"]]
        return side_inputs(self.p, condition_means(trials)) or None


def condition_means(trials: list[TrialResult]) -> dict[str, dict[str, float]]:
    """Condition name -> mean of each measure by the one averaging rule
    (``rig.engine.aggregate``), plus ``valid_trials`` and the trial-to-trial SD ``trial_sd``
    that the screen weighs side differences against."""
    by: dict[str, list[dict]] = {}
    for t in trials:
        if counted(t.status, t.practice):
            by.setdefault(t.condition, []).append(t.measures)
    out = {}
    for name, ms in by.items():
        agg = trial_means(ms)
        out[name] = dict(agg.means)
        out[name]["valid_trials"] = float(agg.trials)
        if agg.sd:
            out[name]["trial_sd"] = dict(agg.sd)
    return out


def side_inputs(protocol, means: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The screening's input: per stance leg, the measures of the condition the rules name."""
    rules = protocol.screening
    want = getattr(rules, "condition_eyes", "closed")
    out: dict[str, dict[str, float]] = {}
    for c in protocol.conditions:
        if c.side and c.eyes == want and c.kind == "static" and c.name in means:
            out[c.side] = means[c.name]
    return out
