"""Chain protocols as data, the clinician's distances, and the targets in the live view."""
import numpy as np
import pytest

from rig.errors import ProtocolFileError, RigError
from rig.session.protocols import load_protocol

CHAIN = ("knee-to-wall", "squat-symmetry", "limits-of-stability", "sit-to-stand")


@pytest.mark.parametrize("name", CHAIN)
def test_chain_protocols_load_with_references_and_demo(name):
    p = load_protocol(name)
    assert p.references and p.chain and p.demo_note
    assert all(c.kind in ("squat", "lunge", "lean", "sit_to_stand") for c in p.conditions)
    assert p.as_dict()["params"]["chain"] == p.chain


def test_los_demo_overrides_chain_settings():
    p = load_protocol("limits-of-stability")
    d = p.for_demo()
    assert p.chain["target_s"] == 8.0 and d.chain["target_s"] == 5.0
    for q in (p, d):
        c = q.conditions[0]
        assert c.trial_duration_s >= q.chain["cue_delay_s"] + 8 * q.chain["target_s"]


def test_chain_key_errors_name_the_key(tmp_path):
    text = (tmp_path / "x.toml")
    base = open(load_protocol("squat-symmetry").path).read()
    text.write_text(base.replace("[chain]\n", "[chain]\nbogus = 1\n"))
    with pytest.raises(ProtocolFileError, match=r"key chain.bogus: unknown key"):
        load_protocol(str(text))
    text.write_text(base.replace("repetitions = 5", "repetitions = 0"))
    with pytest.raises(ProtocolFileError, match=r"key chain.repetitions: expected an integer of at least 1, got 0"):
        load_protocol(str(text))
    text.write_text(base.replace('kind = "squat"', 'kind = "jump"'))
    with pytest.raises(ProtocolFileError, match=r"conditions\[0\].kind: expected one of"):
        load_protocol(str(text))


def test_distances_from_options_last_repeats():
    from rig.cli.run_cmd import _cm_list, _distance_entry

    entry = _distance_entry({"left": _cm_list("10,10.5", "--ktw-left-cm"), "right": []}, interactive=False)
    assert [entry("left", n) for n in (1, 2, 3)] == [10.0, 10.5, 10.5]
    assert entry("right", 1) is None               # not given, not asked: stored as not measured
    with pytest.raises(RigError, match="--ktw-left-cm"):
        _cm_list("10,abc", "--ktw-left-cm")
    with pytest.raises(RigError, match="0-30 cm"):
        _cm_list("45", "--ktw-left-cm")


def test_live_view_draws_the_active_target(tmp_path):
    pytest.importorskip("pyqtgraph")
    from PySide6.QtGui import QImage

    from rig.engine.chain.los import targets_mm, theoretical_limits_mm
    from rig.gui.live import TARGET_RGB, LiveView

    v = LiveView(title="t")
    try:
        tg = targets_mm(theoretical_limits_mm(1750, 250, 95, 100))
        path = str(tmp_path / "targets.png")

        def pixels():
            v.save_png(path)
            img = QImage(path).convertToFormat(QImage.Format.Format_RGB888)
            w, h = img.width(), img.height()
            a = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : w * 3]
            a = a.reshape(h, w, 3).astype(int)
            return int(np.all(np.abs(a - np.array(TARGET_RGB)) < 40, axis=2).sum())

        v.show_targets(tg, "F", 15.0)
        on = pixels()
        v.show_targets(tg, None, 15.0)
        off = pixels()
        assert on > 100 and off < 10
    finally:
        v.close()


def test_sim_movement_options_checked_and_timed():
    import serial

    from rig.sim.timetable import sim_url_for

    with pytest.raises(serial.SerialException, match="heel_lift='up'"):
        serial.serial_for_url("sim://?heel_lift=up")
    with pytest.raises(serial.SerialException, match="weight_share_left"):
        serial.serial_for_url("sim://?weight_share_left=1.5")
    url = sim_url_for("sim://?seed=1&weight_share_left=0.6", load_protocol("squat-symmetry"))
    assert "weight_share_left=0.6" in url and "script=squat:open:firm:" in url and "move_s=" in url
    url = sim_url_for("sim://?seed=1", load_protocol("limits-of-stability").for_demo())
    assert "script=los:" in url and "los_target_s=5" in url
    url = sim_url_for("sim://?seed=1", load_protocol("knee-to-wall"))
    assert "lunge_left:" in url and "lunge_right:" in url
