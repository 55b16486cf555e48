"""The serial link: handshake, commands, reader thread, unplug and reset, discovery."""
import numpy as np
import pytest

from rig.board.link import BoardLink, open_board
from rig.errors import BoardError, DisconnectError, PortError


def test_open_identify_and_stream_by_board_time():
    with open_board("sim://?seed=1&speed=20&person=0") as link:
        assert len(link.hello.board_id_hex) == 16
        seen = []
        link.add_listener(lambda b: seen.append(len(b)))
        link.start()
        f = link.collect(2.0)
        link.stop()
        assert 1.9 < f.t_s[-1] - f.t_s[0] < 2.0
        assert np.all(np.diff(f.seq.astype(int)) == 1)
        assert sum(seen) >= len(f)
        assert link.stats.frames_lost == 0


def test_calibration_blob_round_trip_and_refusal_while_streaming():
    with open_board("sim://?seed=1&speed=20&person=0") as link:
        assert link.read_calibration_blob() is None
        link.write_calibration_blob(b"\x01\x02cal")
        assert link.read_calibration_blob() == b"\x01\x02cal"
        link.start()
        with pytest.raises(BoardError, match="busy"):
            link.write_calibration_blob(b"x")
        with pytest.raises(BoardError, match="exceeds"):
            link.write_calibration_blob(bytes(65))


def test_unplugged_board_keeps_frames_and_says_so():
    link = open_board("sim://?seed=2&speed=20&person=0&disconnect_s=2")
    link.start()
    with pytest.raises(DisconnectError) as e:
        link.collect(10.0)
    msg = str(e.value)
    assert "unplugged" in msg and "\n" not in msg
    f, _ = link.frames(0)
    assert len(f) > 100 and f"{len(f)} frames" in msg
    link.close()


def test_board_reset_mid_stream_is_noticed_and_streaming_resumes():
    with open_board("sim://?seed=3&speed=20&person=0&reset_s=2") as link:
        link.start()
        f = link.collect(4.0)
        assert link.resets_seen == 1
        assert link.stats.resets == 1
        assert np.all(np.diff(f.t_s) > 0)
        assert f.t_s[-1] - f.t_s[0] >= 3.9
        assert link.stats.frames_lost == 0


def test_wrong_port_is_one_line():
    with pytest.raises(PortError, match="/dev/ttyNOPE: cannot open") as e:
        open_board("/dev/ttyNOPE")
    assert "\n" not in str(e.value)


def test_port_that_never_answers_hello():
    # loop:// echoes our IDENTIFY back; it is not a HELLO, so no board answered
    with pytest.raises(PortError, match="no balance board answered"):
        BoardLink("loop://").open(handshake_s=0.6)


def test_rig_port_environment_default(monkeypatch):
    monkeypatch.setenv("RIG_PORT", "sim://?seed=5&speed=20&person=0")
    with open_board(None) as link:
        assert link.url.startswith("sim://?seed=5")


def test_no_port_and_no_board_found(monkeypatch):
    monkeypatch.delenv("RIG_PORT", raising=False)
    from rig.board import discovery

    monkeypatch.setattr(discovery.list_ports, "comports", lambda: [])
    with pytest.raises(PortError, match="no balance board found on USB"):
        open_board(None)
