"""What the runner shows: text in the terminal (always), and the live view when there is one.

The runner calls the same methods on either; ``LiveUI`` adds the pyqtgraph view to the text.
On a terminal the text shows a progress bar and live numbers on one refreshing line; in a pipe
or a log only the phases and results are printed, so logs stay readable.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click
import numpy as np

from rig.units import G_M_S2


class HeadlessUI:
    """Terminal output: phases, countdown, a progress bar with live numbers, trial results."""

    closed = False

    def __init__(self, stream=None):
        self.out = stream or sys.stdout
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self._phase = None
        self._duration = None
        self._label = ""
        self._last_line = 0.0
        self._line_open = False

    def _print(self, text: str) -> None:
        if self._line_open:
            click.echo("", file=self.out)
            self._line_open = False
        click.echo(text, file=self.out)

    def set_trial(self, label, feet, duration_s) -> None:
        self._label, self._duration = label, duration_s

    def phase(self, text: str, countdown_s: float | None = None) -> None:
        if text == self._phase:
            return
        self._phase = text
        if countdown_s is not None and not self.tty:
            return                       # counting seconds in a log file helps nobody
        self._print(text)

    def update(self, t_s, x_mm, y_mm, forces_n, fz_n, elapsed_s=None, remaining_s=None) -> None:
        if not self.tty or not len(t_s):
            return
        now = time.monotonic()
        if now - self._last_line < 0.2:
            return
        self._last_line = now
        kg = float(np.mean(fz_n[-5:])) / G_M_S2
        x, y = x_mm[-1], y_mm[-1]
        cop = f"COP x {x:+6.1f} y {y:+6.1f} mm" if np.isfinite(x) and np.isfinite(y) else "COP  -"
        bar = ""
        if elapsed_s is not None and self._duration:
            total = elapsed_s + (remaining_s or 0.0)
            done = int(20 * min(elapsed_s / total, 1.0)) if total > 0 else 20
            bar = f"[{'#' * done}{'.' * (20 - done)}] {elapsed_s:5.1f}/{total:.0f} s  "
        line = f"  {bar}{kg:6.1f} kg  {cop}"
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.out.write("\r" + line[:width].ljust(min(width, 78)))
        self.out.flush()
        self._line_open = True

    def message(self, text: str, level: str = "info") -> None:
        self._print(("Warning: " if level == "warn" else "") + text)

    def status(self, key: str, text: str | None, level: str = "warn") -> None:
        """A message that holds while its cause does (None: the cause ended). Printed once
        when it starts; the live view also removes it when it ends."""
        active = getattr(self, "_statuses", None)
        if active is None:
            active = self._statuses = {}
        if text and active.get(key) != text:
            self._print(("Warning: " if level == "warn" else "") + text)
        if text:
            active[key] = text
        else:
            active.pop(key, None)

    def take_key(self, name: str) -> bool:
        """A clinician key (``next``, ``repeat``, ``stop``) pressed in the live view; none here."""
        return False

    def beep(self) -> None:
        if self.tty:
            self.out.write("\a")
            self.out.flush()

    def process_events(self) -> None:
        pass

    def stop_reason(self) -> str | None:
        """Why the session must stop now (Ctrl-C, SIGTERM, window closed), or None.

        Checked by the runner at every poll; see rig.session.interrupts."""
        from rig.session import interrupts

        return interrupts.pending()

    def trial_done(self, res, cond) -> None:
        what = "practice" if res.practice else f"trial {res.index}"
        if res.status == "valid":
            m = res.measures
            nums = ", ".join(f"{lbl} {m[k]:.{d}f} {u}" for k, lbl, u, d in (
                ("sd_ml_mm", "ML SD", "mm", 1), ("mean_velocity_mm_s", "velocity", "mm/s", 1),
                ("ttb_mean_min_ml_s", "TTB ML", "s", 2),
                ("time_to_stabilization_vertical_s", "TTS", "s", 2)) if k in m and np.isfinite(m[k]))
            self._print(f"  {cond.label}, {what}: valid  ({nums})")
        else:
            self._print(f"  {cond.label}, {what}: INVALID: {'; '.join(res.reasons)}")

    def ask_repeat(self, res, cond, interactive: bool) -> bool:
        if interactive:
            from rig.session import interrupts

            with interrupts.prompting():
                return click.confirm("  Repeat this trial?", default=True)
        self._print("  the trial will be repeated")
        return True

    def ask_after_timeout(self, text: str, interactive: bool) -> str:
        """A wait timed out: "retry", "skip" (this condition) or "abort" (the session).
        Scripted runs abort: nobody is there to decide."""
        self._print(f"  {text}")
        if not interactive:
            return "abort"
        key = click.prompt("  [r]etry, [s]kip this condition, or [a]bort the session",
                           type=click.Choice(["r", "s", "a"]), default="r", show_choices=False)
        return {"r": "retry", "s": "skip", "a": "abort"}[key]

    def save_snapshot(self, path, cond, index) -> None:
        pass

    def close(self) -> None:
        if self._line_open:
            click.echo("", file=self.out)


class LiveUI(HeadlessUI):
    """The live view (rig.gui.live) beside the terminal text."""

    def __init__(self, title: str = "balance rig", stream=None, fullscreen: bool = False):
        super().__init__(stream)
        from rig.gui.live import LiveView

        self.view = LiveView(title=title, fullscreen=fullscreen)
        self._saved: list[Path] = []

    @property
    def closed(self) -> bool:
        return self.view.is_closed

    def stop_reason(self) -> str | None:
        if self.view.is_closed:
            return "stopped by the operator (live view closed)"
        if self.view.take_key("stop"):
            from rig.session import interrupts

            interrupts.request("stopped by the operator (Esc)")
        return super().stop_reason()

    def status(self, key: str, text: str | None, level: str = "warn") -> None:
        super().status(key, text, level)
        self.view.set_status(key, text, level)

    def take_key(self, name: str) -> bool:
        return self.view.take_key(name)

    def set_trial(self, label, feet, duration_s) -> None:
        super().set_trial(label, feet, duration_s)
        self.view.set_trial(label, feet, duration_s)

    def phase(self, text: str, countdown_s: float | None = None) -> None:
        super().phase(text, countdown_s)
        self.view.set_phase(text, countdown_s)

    def update(self, t_s, x_mm, y_mm, forces_n, fz_n, elapsed_s=None, remaining_s=None) -> None:
        super().update(t_s, x_mm, y_mm, forces_n, fz_n, elapsed_s, remaining_s)
        self.view.update(t_s, x_mm, y_mm, forces_n, fz_n, elapsed_s, remaining_s)

    def message(self, text: str, level: str = "info") -> None:
        super().message(text, level)
        self.view.message(text, level)

    def beep(self) -> None:
        self.view.beep()

    def process_events(self) -> None:
        self.view.process_events()

    def trial_done(self, res, cond) -> None:
        super().trial_done(res, cond)
        if res.status != "valid":
            self.view.message("invalid: " + "; ".join(res.reasons), "warn")

    def save_snapshot(self, path, cond, index) -> None:
        """``FILE.png`` always holds the latest trial; ``FILE-NN-condition.png`` each one."""
        path = Path(path)
        self.view.process_events()
        each = path.with_name(f"{path.stem}-{len(self._saved) + 1:02d}-{cond.name}{path.suffix or '.png'}")
        self.view.save_png(each)
        shutil.copyfile(each, path)
        self._saved.append(each)

    def close(self) -> None:
        super().close()
        self.view.close()
