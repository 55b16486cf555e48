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


def test_start_pins_the_first_frame_and_collect_reads_from_it():
    with open_board("sim://?seed=6&speed=50&person=0") as link:
        first = link.start()
        import time
        time.sleep(0.3)                 # frames arrive before anyone reads: none may be lost
        f = link.collect(1.0)
        assert f.seq[0] == 0            # the stream's very first frame
        assert link.frames(first)[0].seq[0] == 0


def test_rig_stream_writes_every_frame_it_decoded(tmp_path, capsys):
    from rig.cli import main

    out = tmp_path / "s.csv"
    with pytest.raises(SystemExit) as e:
        main(["stream", "--port", "sim://?seed=2&speed=20", "--seconds", "3", "--out", str(out)])
    assert e.value.code == 0
    text = out.read_text().splitlines()
    footer = dict(line[2:].split(": ", 1) for line in text if line.startswith("# ") and ": " in line)
    rows = [line for line in text if line and not line.startswith("#")][1:]
    t = np.array([float(r.split(",")[0]) for r in rows])
    assert int(footer["frames_written"]) == len(rows)
    # every frame decoded is either written or after the requested span
    assert int(footer["frames_written"]) + int(footer["frames_after_end_not_written"]) == \
        int(footer["link_frames_decoded"])
    assert t[0] == 0.0 and 2.9 < t[-1] < 3.0
    seq = np.array([int(r.split(",")[2]) for r in rows])
    assert seq[0] == 0 and np.all(np.diff(seq) == 1)     # from the first frame, none skipped
