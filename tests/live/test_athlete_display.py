"""The athlete display at 1920 x 1080 (offscreen): readable from the board, current messages
only, clinician keys."""
import numpy as np
import pytest

pytest.importorskip("pyqtgraph")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from rig.engine.stance import feet  # noqa: E402
from rig.gui.live import DOT_RGB, LiveView  # noqa: E402

pytestmark = pytest.mark.gui
INSTRUCTION = "Stand on the LEFT foot, eyes open, hands on hips"


def grab(view):
    view.process_events()
    img = view.win.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    a = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : w * 3]
    return a.reshape(h, w, 3).astype(int)


def region(view, widget, a):
    """The pixels of ``widget`` inside the window's grab."""
    top_left = widget.mapTo(view.win, widget.rect().topLeft())
    x, y = top_left.x(), top_left.y()
    return a[y:y + widget.height(), x:x + widget.width()]


def first_line_height(pixels, dark=110):
    rows = np.flatnonzero((pixels.max(axis=2) < dark).any(axis=1))
    if not rows.size:
        return 0
    run_end = rows[0]
    for r in rows[1:]:
        if r != run_end + 1:
            break
        run_end = r
    return run_end - rows[0] + 1


@pytest.fixture
def big():
    v = LiveView(title="athlete display", size=(1920, 1080))
    yield v
    v.close()


def test_instruction_and_cop_marker_read_from_the_board(big):
    assert (big.win.width(), big.win.height()) == (1920, 1080)
    big.set_trial("Single leg, left, eyes open, firm: trial 1", feet("single_left"), 10.0)
    big.set_phase(INSTRUCTION)
    t = np.arange(200) / 80.0
    x, y = -90 + 3 * np.sin(t), 5 * np.cos(t)
    f = np.tile([150.0, 170.0, 160.0, 180.0], (200, 1))
    big.update(t, x, y, f, f.sum(axis=1), 2.5, 7.5)
    a = grab(big)
    text_px = first_line_height(region(big, big.phase_label, a))
    assert text_px >= 60, text_px            # the instruction line, ascenders to descenders
    dot = np.all(np.abs(a - np.array(DOT_RGB)) < 40, axis=2)
    ys, xs = np.nonzero(dot)
    assert len(xs) and np.ptp(xs) + 1 >= 20 and np.ptp(ys) + 1 >= 20, (np.ptp(xs), np.ptp(ys))
    assert region(big, big.timer_label, a).shape[0] and first_line_height(region(big, big.timer_label, a)) >= 60


def test_a_warning_is_gone_the_frame_after_its_cause_ends(big):
    big.set_trial("Single leg, right", feet("single_right"), 10.0)
    big.set_phase("Stand on the RIGHT foot")
    big.set_status("wrong_foot", "wrong foot: stand on the right foot")
    a = grab(big)
    orange = lambda px: np.all(np.abs(px - np.array([0xb3, 0x5c, 0x00])) < 40, axis=2).sum()
    assert "wrong foot" in big.msg_label.text() and orange(region(big, big.msg_label, a)) > 200
    assert first_line_height(region(big, big.msg_label, a), dark=200) >= 30     # readable, not 14 px
    big.set_status("wrong_foot", None)          # the cause ended: the next frame has no warning
    a = grab(big)
    assert big.msg_label.text() == "" and orange(region(big, big.msg_label, a)) == 0
    # a one-off message stays until the next trial; a status never outlives its trial either
    big.set_status("wrong_foot", "wrong foot")
    big.message("stance lost during the countdown: again", "warn")
    big.set_trial("next", None, None)
    assert big.msg_label.text() == ""


def test_headless_prints_a_status_once_while_it_holds(capsys):
    from rig.session.ui import HeadlessUI

    ui = HeadlessUI()
    for _ in range(30):
        ui.status("wrong_foot", "wrong foot: stand on the right foot")
    ui.status("wrong_foot", None)
    ui.status("wrong_foot", "wrong foot: stand on the right foot")
    assert capsys.readouterr().out.count("Warning: wrong foot") == 2


def test_clinician_keys(big):
    from PySide6.QtTest import QTest

    from rig.session import interrupts
    from rig.session.ui import LiveUI

    QTest.keyClick(big.win, Qt.Key.Key_Space)
    assert big.take_key("next") and not big.take_key("next")
    QTest.keyClick(big.win, Qt.Key.Key_R)
    big.set_trial("the next trial", None, None)        # a key pressed before a trial does not act on it
    assert not big.take_key("repeat")
    QTest.keyClick(big.win, Qt.Key.Key_R)
    assert big.take_key("repeat")
    ui = LiveUI.__new__(LiveUI)
    ui.view = big
    interrupts.clear()
    try:
        assert ui.stop_reason() is None
        QTest.keyClick(big.win, Qt.Key.Key_Escape)
        assert ui.stop_reason() == "stopped by the operator (Esc)"
        interrupts.clear()
        big.win.close()                                 # closing the window stops the session too
        assert ui.stop_reason() == "stopped by the operator (live view closed)"
    finally:
        interrupts.clear()
