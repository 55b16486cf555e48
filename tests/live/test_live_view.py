"""The live view, offscreen: what it draws, that a long session does not crash Qt, rig live."""
import sys

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")     # the gui extra; .ci/run installs it, so this runs in CI
from PySide6.QtGui import QImage  # noqa: E402

from rig.gui.live import TRACE_RGB, LiveView  # noqa: E402
from rig.engine.stance import feet  # noqa: E402

pytestmark = pytest.mark.gui


def rgb(path):
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    a = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : w * 3]
    return a.reshape(h, w, 3).astype(int)


def colour_mask(a, colour, tol=30):
    return np.all(np.abs(a - np.array(colour)) < tol, axis=2)


@pytest.fixture
def view():
    v = LiveView(title="test")
    yield v
    v.close()


def circle(radius_mm=60.0, cx=-100.0, n=800, fs=80.0):
    t = np.arange(n) / fs
    x = cx + radius_mm * np.cos(2 * np.pi * 0.5 * t)
    y = radius_mm * np.sin(2 * np.pi * 0.5 * t)
    f = np.tile([150.0, 170.0, 160.0, 180.0], (n, 1))
    return t, x, y, f, f.sum(axis=1)


def test_trace_is_drawn_where_the_cop_is(view, tmp_path):
    view.set_trial("Single leg, left", feet("single_left"), 10.0)
    t, x, y, f, fz = circle()
    view.update(t, x, y, f, fz, 9.9, 0.1)
    view.save_png(tmp_path / "v.png")
    a = rgb(tmp_path / "v.png")
    h, w, _ = a.shape
    plot = colour_mask(a, TRACE_RGB)[:, : int(w * 0.6)]
    ys, xs = np.nonzero(plot)
    assert len(xs) > 200
    # the circle is centred on the left foot's mark: left of the board centre, vertically centred
    cx_px = np.median(xs)
    assert cx_px < 0.5 * int(w * 0.6)
    assert abs(np.median(ys) - h / 2) < h * 0.15
    # and it is a ring, not a blob: the centre of the circle is empty
    ring_r = (xs.max() - xs.min()) / 2
    centre = ((xs - (xs.max() + xs.min()) / 2) ** 2 + (ys - (ys.max() + ys.min()) / 2) ** 2) < (0.5 * ring_r) ** 2
    assert centre.sum() < 0.05 * len(xs)


def test_an_empty_trial_draws_no_trace(view, tmp_path):
    view.set_trial("empty", None, None)
    z = np.zeros(0)
    view.update(z, z, z, np.zeros((0, 4)), z, None, None)
    view.save_png(tmp_path / "e.png")
    a = rgb(tmp_path / "e.png")
    assert colour_mask(a, TRACE_RGB)[:, : int(a.shape[1] * 0.6)].sum() < 20
    assert a.std() > 5          # not blank: axes, board outline, bars


def test_force_bars_and_total_shown(view, tmp_path):
    view.set_trial("forces", None, None)
    t, x, y, f, fz = circle()
    view.update(t, x, y, f, fz, None, None)
    assert "67.3 kg" in view.force_label.text()        # 660 N / 9.80665
    view.save_png(tmp_path / "b.png")
    from rig.gui.live import BAR_RGB

    a = rgb(tmp_path / "b.png")
    assert colour_mask(a, BAR_RGB)[:, int(a.shape[1] * 0.6):].sum() > 1000


def test_thousands_of_frames_do_not_leak_references_to_none(view):
    """PySide6 6.12.0 drops a reference to None per Qt event on Python 3.11 and aborts the
    process after a few thousand frames (pyproject pins < 6.12): guard against that binding."""
    t, x, y, f, fz = circle()
    before = sys.getrefcount(None)
    for i in range(1500):
        k = 20 + i % 780
        view.update(t[:k], x[:k], y[:k], f[:k], fz[:k], 1.0, 1.0)
        view.process_events()
    assert before - sys.getrefcount(None) < 500


@pytest.mark.sim
def test_rig_live_command_end_to_end(tmp_path, capsys):
    from rig.cli import main

    snap = tmp_path / "live.png"
    with pytest.raises(SystemExit) as e:
        main(["live", "--port", "sim://?seed=2&clock=lockstep&step_s=0.05&stance=single_right", "--seconds", "5",
              "--stance", "single_right", "--snapshot", str(snap)])
    out = capsys.readouterr()
    assert e.value.code == 0, out.err
    assert "COP x +" in out.out and "frames decoded" in out.out
    a = rgb(snap)
    xs = np.nonzero(colour_mask(a, TRACE_RGB)[:, : int(a.shape[1] * 0.6)])[1]
    assert len(xs) > 20 and np.median(xs) > 0.5 * int(a.shape[1] * 0.6)   # right foot: right half
