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


# -- discovery: only known board ids, never a port another program uses -------------------------

class FakePort:
    def __init__(self, device, vid, pid, description="n/a"):
        self.device, self.vid, self.pid, self.description = device, vid, pid, description


def test_discovery_opens_only_free_known_board_ports_and_says_what_it_did(monkeypatch, tmp_path):
    import subprocess
    import sys

    from rig.board import discovery, link as link_mod

    busy = tmp_path / "ttyUSB7"
    busy.write_text("")
    holder = subprocess.Popen([sys.executable, "-c", f"f = open({str(busy)!r}); import time; time.sleep(60)"])
    try:
        import time
        for _ in range(200):  # until the other program has the "port" open
            if discovery.port_users(str(busy)):
                break
            time.sleep(0.02)
        ports = [
            FakePort("/dev/ttyS0", None, None),                               # phantom UART
            FakePort("/dev/ttyACM3", 0x1546, 0x01A8, "u-blox GNSS receiver"), # a GPS: not ours
            FakePort(str(busy), 0x1A86, 0x7523),                              # CH340, in use
            FakePort("sim://?seed=1&clock=lockstep&boot_s=0.05", 0x2341, 0x0043),  # a free Uno
        ]
        monkeypatch.setattr(discovery.list_ports, "comports", lambda: ports)
        opened = []
        real_open = link_mod.BoardLink.open
        monkeypatch.setattr(link_mod.BoardLink, "open",
                            lambda self, *a, **k: (opened.append(self.url), real_open(self, *a, **k))[1])
        infos = {i.device: i for i in discovery.discover(handshake_s=3.0)}
        assert opened == ["sim://?seed=1&clock=lockstep&boot_s=0.05"]
        assert infos["/dev/ttyS0"].action == "not opened: not a known board USB id"
        assert infos["/dev/ttyACM3"].action == "not opened: not a known board USB id"
        assert infos[str(busy)].action.startswith("not opened: in use by") and f"pid {holder.pid}" in infos[str(busy)].action
        assert infos[ports[3].device].board_id and "identified" in infos[ports[3].device].action
        line = discovery.describe(list(infos.values()))
        assert "\n" not in line and "in use by" in line and "not a known board USB id" in line
    finally:
        holder.kill()
        holder.wait()


def test_no_board_found_says_what_discovery_did(monkeypatch):
    monkeypatch.delenv("RIG_PORT", raising=False)
    from rig.board import discovery

    monkeypatch.setattr(discovery.list_ports, "comports", lambda: [FakePort("/dev/ttyS0", None, None)])
    with pytest.raises(PortError, match=r"/dev/ttyS0 \(-\): not opened: not a known board USB id") as e:
        open_board(None)
    assert "\n" not in str(e.value)
