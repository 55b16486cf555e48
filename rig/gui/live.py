"""The live view (pyqtgraph on PySide6): what the athlete and the clinician watch during a trial.

A passive view: the caller's loop (``rig.session.runner`` or ``rig live``) hands it the current trial's
arrays at display rate (~30 Hz) and calls ``process_events``; it never reads the board and runs
no thread of its own, so it stays smooth at any board rate (what is drawn is decimated to at
most ``MAX_POINTS`` points, never per sample in Python).

Left: the stabilogram (board frame, mm, x = medio-lateral + right, y = antero-posterior +
forward) over the board and foot outlines, the COP with a bright recent tail (last
``TAIL_S`` s) over the faint whole trial, and the growing 95 % prediction ellipse. Right: the
four cell forces and the total (N and kg), the condition, phase, countdown or trial timer, and
validity messages.
"""
from __future__ import annotations

import os

import numpy as np

from rig.units import G_M_S2

TAIL_S = 2.0
MAX_POINTS = 1500
BOARD_HALF_MM = 200.0
TRACE_RGB = (230, 60, 40)        # the recent COP tail (tests look for this colour)
DOT_RGB = (170, 0, 170)          # the current COP: a large marker the athlete follows
TARGET_RGB = (0, 140, 70)        # the target: the centre of the stance foot (or feet)
# Sizes as a share of the window height, so the view reads from the board (2-3 m) full screen:
# at 1920 x 1080 the instruction is 86 px, the timer 130 px, messages 49 px, the COP marker 38 px.
SCALE = {"phase": 0.08, "timer": 0.12, "msg": 0.045, "label": 0.03, "force": 0.025, "dot": 0.035}
MIN_DOT_PX = 20
KEYS_HELP = "Space: next (ends a rest)   R: repeat this trial   Esc: stop (kept, resumable)"
OLD_RGB = (240, 170, 150)
ELLIPSE_RGB = (40, 110, 220)
BAR_RGB = (60, 160, 90)
TARGET_RGB = (250, 190, 20)      # the limits-of-stability target to lean towards


def display_available() -> bool:
    """A display to draw on: the offscreen platform, a Linux X or Wayland display, or another OS."""
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return True
    import sys

    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def qt_available() -> bool:
    """PySide6 and pyqtgraph importable, and a display (or the offscreen platform) to draw on."""
    try:
        import PySide6.QtWidgets  # noqa: F401  (import PySide6 first: pins pyqtgraph's binding)
        import pyqtgraph  # noqa: F401
    except ImportError:
        return False
    return display_available()


def _ellipse_xy(x: np.ndarray, y: np.ndarray, n: int = 100):
    """Outline of the 95 % prediction ellipse (rig.engine.sway.area's definition) of points x, y (mm)."""
    from rig.engine.sway.area import prediction_ellipse

    e = prediction_ellipse(x, y)
    a, b = e.major_mm, e.minor_mm
    ang = np.deg2rad(e.angle_deg) if np.isfinite(e.angle_deg) else 0.0
    th = np.linspace(0, 2 * np.pi, n)
    ex, ey = a * np.cos(th), b * np.sin(th)
    cx, cy = e.centre_mm
    return (cx + ex * np.cos(ang) - ey * np.sin(ang), cy + ex * np.sin(ang) + ey * np.cos(ang))


def _window_class(QtWidgets):
    """A QWidget that tells the view when the user closes it (a subclass, not a patched
    instance method: shiboken keeps an overridden virtual alive only on a real subclass)."""

    class _Window(QtWidgets.QWidget):
        def __init__(self, on_close, on_resize=None, on_key=None):
            super().__init__()
            self._on_close_cb = on_close
            self._on_resize_cb = on_resize
            self._on_key_cb = on_key

        def closeEvent(self, event):  # noqa: N802 (Qt's name)
            self._on_close_cb()
            event.accept()

        def resizeEvent(self, event):  # noqa: N802
            if self._on_resize_cb is not None:
                self._on_resize_cb()
            super().resizeEvent(event)

        def keyPressEvent(self, event):  # noqa: N802
            if self._on_key_cb is None or not self._on_key_cb(event.key()):
                super().keyPressEvent(event)

    return _Window


class LiveView:
    """The window. See the module docstring; methods are called from the caller's loop."""

    def __init__(self, title: str = "balance rig", fullscreen: bool = False, size=(1000, 560)):
        import PySide6.QtWidgets  # noqa: F401
        import pyqtgraph as pg
        from pyqtgraph.Qt import QtCore, QtWidgets

        self.pg, self.QtCore = pg, QtCore
        self.app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        self._closed = False
        self._statuses: dict[str, tuple[str, str]] = {}      # key -> (text, level): shown while active
        self._message: tuple[str, str] | None = None         # the latest one-off message
        self.keys: list[str] = []                             # clinician keys not yet taken
        self.win = _window_class(QtWidgets)(self._on_close, self._apply_scale, self._on_key)
        self.win.setWindowTitle(title)
        self.win.resize(*size)
        outer = QtWidgets.QVBoxLayout(self.win)
        # the instruction across the top, the largest text: what the athlete must do now
        self.phase_label = QtWidgets.QLabel("")
        self.phase_label.setWordWrap(True)
        outer.addWidget(self.phase_label)
        layout = QtWidgets.QHBoxLayout()
        outer.addLayout(layout, 1)

        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.setXRange(-BOARD_HALF_MM, BOARD_HALF_MM)
        self.plot.setYRange(-BOARD_HALF_MM, BOARD_HALF_MM)
        self.plot.setLabel("bottom", "COP x, medio-lateral (mm, + right)")
        self.plot.setLabel("left", "COP y, antero-posterior (mm, + forward)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        b = BOARD_HALF_MM
        self.plot.plot([-b, b, b, -b, -b], [-b, -b, b, b, -b], pen=pg.mkPen((120, 120, 120), width=2))
        self.feet_items = []
        self.target = self.plot.plot([], [], pen=None, symbol="+", symbolSize=40,
                                     symbolPen=pg.mkPen(TARGET_RGB, width=4), symbolBrush=None)
        self.old = self.plot.plot([], [], pen=pg.mkPen(OLD_RGB, width=1.5))
        self.tail = self.plot.plot([], [], pen=pg.mkPen(TRACE_RGB, width=4))
        self.ellipse = self.plot.plot([], [], pen=pg.mkPen(ELLIPSE_RGB, width=2, style=QtCore.Qt.PenStyle.DashLine))
        # a ring, not a disc: the recent trace stays visible inside it
        self.dot = self.plot.plot([], [], pen=None, symbol="o", symbolSize=MIN_DOT_PX, symbolBrush=None,
                                  symbolPen=pg.mkPen(DOT_RGB, width=5))
        layout.addWidget(self.plot, 3)

        side = QtWidgets.QVBoxLayout()
        self.label = QtWidgets.QLabel("")
        self.label.setWordWrap(True)
        self.timer_label = QtWidgets.QLabel("")
        self.msg_label = QtWidgets.QLabel("")
        self.msg_label.setWordWrap(True)
        self.bars = pg.PlotWidget()
        self.bars.setLabel("left", "force (N)")
        self.bars.getAxis("bottom").setTicks([[(0, "FL"), (1, "FR"), (2, "BL"), (3, "BR"), (4.5, "total/4")]])
        self.bar_item = pg.BarGraphItem(x=[0, 1, 2, 3, 4.5], height=[0] * 5, width=0.7, brush=BAR_RGB)
        self.bars.addItem(self.bar_item)
        self.bars.setYRange(0, 400)
        self.force_label = QtWidgets.QLabel("")
        self.keys_label = QtWidgets.QLabel(KEYS_HELP)
        for w in (self.label, self.timer_label, self.msg_label):
            side.addWidget(w)
        side.addWidget(self.bars, 1)
        side.addWidget(self.force_label)
        side.addWidget(self.keys_label)
        layout.addLayout(side, 2)
        self._apply_scale()
        if fullscreen:
            self.win.showFullScreen()
        else:
            self.win.show()
        self.process_events()

    def _apply_scale(self) -> None:
        """Font and marker sizes follow the window height (readable from 2-3 m full screen)."""
        if getattr(self, "keys_label", None) is None or self.win is None:
            return
        h = max(self.win.height(), 300)
        px = {k: max(12, int(round(v * h))) for k, v in SCALE.items()}
        self.phase_label.setStyleSheet(f"font-size: {px['phase']}px; font-weight: bold; color: #111;")
        self.timer_label.setStyleSheet(f"font-size: {px['timer']}px; font-weight: bold;")
        self.label.setStyleSheet(f"font-size: {px['label']}px; font-weight: bold;")
        self.force_label.setStyleSheet(f"font-size: {px['force']}px;")
        self.keys_label.setStyleSheet(f"font-size: {max(11, px['force'] * 2 // 3)}px; color: #666;")
        self._msg_px = px["msg"]
        self._show_messages()
        self.dot.setSymbolSize(max(MIN_DOT_PX, px["dot"]))
        self.target.setSymbolSize(max(MIN_DOT_PX * 2, 2 * px["dot"]))

    def _on_key(self, key) -> bool:
        """Clinician keys: Esc/Q stop (the session is kept, resumable), Space/Enter/N next
        (ends a rest), R repeat (the current trial is filed invalid, "repeat requested by the
        clinician", and repeated). Taken by the caller's loop (``take_key``)."""
        K = self.QtCore.Qt.Key
        name = {K.Key_Escape: "stop", K.Key_Q: "stop", K.Key_Space: "next", K.Key_Return: "next",
                K.Key_Enter: "next", K.Key_N: "next", K.Key_R: "repeat"}.get(key)
        if name is None:
            return False
        self.keys.append(name)
        return True

    def take_key(self, name: str) -> bool:
        """True (once) if the clinician pressed the key ``name`` since it was last taken."""
        if name in self.keys:
            self.keys = [k for k in self.keys if k != name]
            return True
        return False

    # -- what the caller sets --------------------------------------------------------------------
    def _on_close(self) -> None:
        self._closed = True

    @property
    def is_closed(self) -> bool:
        return self._closed

    def set_trial(self, label: str, feet: dict | None, duration_s: float | None) -> None:
        """A new trial: its label, the foot outlines (rig.engine.stance.feet), the trace cleared."""
        pg = self.pg
        self.label.setText(label)
        for it in self.feet_items:
            self.plot.removeItem(it)
        self.feet_items = []
        for name, f in (feet or {}).items():
            x0, x1, y0, y1 = f.bounds_mm
            self.feet_items.append(self.plot.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0],
                                                  pen=pg.mkPen((90, 90, 90), width=2)))
        for item in (self.old, self.tail, self.ellipse, self.dot, self.target):
            item.setData([], [])
        if feet:
            # the target: the stance foot's (or feet's) centre; the view zoomed to the feet, about
            # the board centre so left stays left
            cx = [(f.bounds_mm[0] + f.bounds_mm[1]) / 2 for f in feet.values()]
            cy = [(f.bounds_mm[2] + f.bounds_mm[3]) / 2 for f in feet.values()]
            self.target.setData([float(np.mean(cx))], [float(np.mean(cy))])
            reach = max(max(abs(v) for f in feet.values() for v in f.bounds_mm) + 30.0, 120.0)
            half = min(reach, BOARD_HALF_MM)
            self.plot.setXRange(-half, half)
            self.plot.setYRange(-half, half)
        else:
            self.plot.setXRange(-BOARD_HALF_MM, BOARD_HALF_MM)
            self.plot.setYRange(-BOARD_HALF_MM, BOARD_HALF_MM)
        self._statuses.clear()
        self._message = None
        self.keys = []                   # a key pressed before this trial does not act on it
        self._show_messages()
        self.timer_label.setText("")
        self.show_targets({}, None, 0.0)

    def show_targets(self, targets: dict, active: str | None, radius_mm: float) -> None:
        """Limits-of-stability targets: circles of ``radius_mm`` at ``targets`` {code: (x, y) mm};
        the ``active`` one filled (TARGET_RGB), the others outlined; ``{}`` clears them."""
        pg = self.pg
        for it in getattr(self, "target_items", []):
            self.plot.removeItem(it)
        self.target_items = []
        th = np.linspace(0, 2 * np.pi, 40)
        for code, (x, y) in targets.items():
            on = code == active
            item = self.plot.plot(x + radius_mm * np.cos(th), y + radius_mm * np.sin(th),
                                  pen=pg.mkPen(TARGET_RGB if on else (150, 150, 150), width=3 if on else 1),
                                  fillLevel=None, brush=pg.mkBrush(*TARGET_RGB, 160) if on else None)
            if on:
                item.setFillLevel(y)       # a filled disc for the target to reach
            self.target_items.append(item)

    def set_phase(self, text: str, countdown_s: float | None = None) -> None:
        self.phase_label.setText(text)
        if countdown_s is not None:
            self.timer_label.setText(f"{max(countdown_s, 0):.0f}")

    def message(self, text: str, level: str = "info") -> None:
        """A one-off message: shown until the next trial or the next message."""
        self._message = (text, level)
        self._show_messages()

    def set_status(self, key: str, text: str | None, level: str = "warn") -> None:
        """A message that holds while its cause does (``None``: the cause ended): it leaves the
        screen with the next drawn frame, never lingering as a stale warning."""
        if text:
            self._statuses[key] = (text, level)
        else:
            self._statuses.pop(key, None)
        self._show_messages()

    def _show_messages(self) -> None:
        items = list(self._statuses.values()) + ([self._message] if self._message else [])
        level = next((lv for _, lv in items if lv == "error"), next((lv for _, lv in items if lv == "warn"), "info"))
        color = {"info": "#333", "warn": "#b35c00", "error": "#c00"}.get(level, "#333")
        self.msg_label.setStyleSheet(f"color: {color}; font-size: {getattr(self, '_msg_px', 24)}px; font-weight: bold;")
        self.msg_label.setText("\n".join(t for t, _ in items))

    def update(self, t_s, cop_x_mm, cop_y_mm, cell_forces_n, fz_n, elapsed_s=None, remaining_s=None) -> None:
        """Draw the trial so far (arrays of the whole trial, or the last seconds)."""
        t = np.asarray(t_s, float)
        x = np.asarray(cop_x_mm, float)
        y = np.asarray(cop_y_mm, float)
        if len(t):
            recent = t >= t[-1] - TAIL_S
            step = max(1, int(np.ceil(len(t) / MAX_POINTS)))
            self.old.setData(x[::step], y[::step], connect="finite")
            self.tail.setData(x[recent], y[recent], connect="finite")
            ok = np.isfinite(x) & np.isfinite(y)
            if np.isfinite(x[-1]) and np.isfinite(y[-1]):
                self.dot.setData([x[-1]], [y[-1]])
            else:
                self.dot.setData([], [])
            if ok.sum() >= 20 and elapsed_s is not None:
                try:
                    ex, ey = _ellipse_xy(x[ok], y[ok])
                    self.ellipse.setData(ex, ey)
                except Exception:            # noqa: BLE001 - a degenerate cloud: no ellipse yet
                    self.ellipse.setData([], [])
            f = np.asarray(cell_forces_n, float)
            if len(f):
                last = f[-min(len(f), 5):].mean(axis=0)
                total = float(np.mean(np.asarray(fz_n, float)[-min(len(f), 5):]))
                self.bar_item.setOpts(height=[*last, total / 4])
                self.bars.setYRange(0, max(400.0, float(np.max(last)) * 1.2, total / 4 * 1.2))
                self.force_label.setText(f"total {total:6.0f} N  ({total / G_M_S2:5.1f} kg)")
        if elapsed_s is not None:
            rem = f"  ({remaining_s:.0f} s left)" if remaining_s is not None else ""
            self.timer_label.setText(f"{elapsed_s:4.1f} s{rem}")

    def beep(self) -> None:
        self.app.beep()

    def process_events(self) -> None:
        self.app.processEvents()

    def save_png(self, path) -> None:
        if self.win is None:
            from rig.errors import RigError

            raise RigError(f"cannot write the snapshot {path}: the live view is closed")
        self.process_events()
        if not self.win.grab().save(str(path)):
            from rig.errors import RigError

            raise RigError(f"cannot write the snapshot {path}")

    def close(self) -> None:
        """Close and delete the window now, on the Qt side, in a controlled order: leaving
        Qt objects to Python's garbage collector later crashed the process (segfault)."""
        if self.win is None:
            return
        from pyqtgraph.Qt import QtCore

        self._closed = True
        win, self.win = self.win, None
        win.close()
        win.deleteLater()
        self.app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        self.app.processEvents()
        for name in ("plot", "bars", "bar_item", "old", "tail", "ellipse", "dot", "target", "label", "phase_label",
                     "timer_label", "msg_label", "force_label", "keys_label"):
            setattr(self, name, None)
        self.feet_items = []
