"""``rig`` board commands as a user runs them: real processes, exit codes, one-line errors."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

RIG = [sys.executable, "-m", "rig"]


def run(*args, timeout=60, **kw):
    return subprocess.run(RIG + list(args), capture_output=True, text=True, timeout=timeout, **kw)


def assert_one_line_error(p, needle):
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], p.stderr


def test_version_and_help():
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith("rig, version ")
    assert p.stdout.splitlines()[1] == "engine: compiled kernels (rig.engine._kernels)"
    p = run("--help")
    for cmd in ("ports", "info", "stream", "sim"):
        assert cmd in p.stdout
    p = run("sim", "--help")
    assert "disconnect_s" in p.stdout and "speed" in p.stdout


def test_info_on_the_simulated_board():
    p = run("info", "--port", "sim://?seed=1&clock=lockstep&step_s=0.1")
    assert p.returncode == 0, p.stderr
    assert "board id:" in p.stdout and "HX711" in p.stdout and "measured rate:" in p.stdout


def read_csv(path):
    """What a researcher does with numpy: skip the leading '#' block, names from the header row."""
    lines = path.read_text().splitlines()
    skip = next(i for i, l in enumerate(lines) if not l.startswith("#"))
    return np.genfromtxt(path, delimiter=",", comments="#", names=True, skip_header=skip)


def test_stream_writes_a_csv_numpy_reads(tmp_path):
    out = tmp_path / "x.csv"
    p = run("stream", "--port", "sim://?seed=1&clock=lockstep&step_s=0.1", "--seconds", "5", "--out", str(out))
    assert p.returncode == 0, p.stderr
    lines = out.read_text().splitlines()
    header = [l for l in lines if not l.startswith("#")][0].split(",")
    data = read_csv(out)
    assert header[:8] == ["t_s", "host_t_s", "seq", "raw_fl", "raw_fr", "raw_bl", "raw_br", "status"]
    assert 4.9 < data["t_s"][-1] < 5.0
    assert np.all(np.diff(data["seq"]) == 1)
    text = out.read_text()
    assert "# board_id: " in text and "# link_frames_lost: 0" in text
    assert "frames decoded" in p.stdout


def test_stream_unplugged_keeps_rows_and_exits_nonzero(tmp_path):
    out = tmp_path / "x.csv"
    p = run("stream", "--port", "sim://?seed=1&clock=lockstep&step_s=0.1&boot_s=0.05&disconnect_s=3", "--seconds", "10", "--out", str(out), "--raw-only")
    assert_one_line_error(p, "unplugged")
    assert str(out) in p.stderr
    data = read_csv(out)
    assert len(data) > 150
    assert "# error: " in out.read_text()


@pytest.mark.parametrize("args,needle", [
    (["info", "--port", "/dev/ttyNOPE"], "/dev/ttyNOPE: cannot open"),
    (["info", "--port", "sim://?sed=1"], "unknown option 'sed'"),
    (["stream", "--port", "sim://?clock=lockstep&step_s=0.1", "--seconds", "1", "--out", "/nonexistent-dir/x.csv"], "x.csv"),
])
def test_user_errors_are_one_line(args, needle):
    assert_one_line_error(run(*args), needle)


def test_rig_sim_on_a_pty_serves_another_process():
    sim = subprocess.Popen(RIG + ["sim", "sim://?seed=6&speed=20&clock=wall"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        dev = sim.stdout.readline().strip()
        assert dev.startswith("/dev/")
        p = run("info", "--port", dev)
        assert p.returncode == 0, p.stderr
        assert "board id:" in p.stdout and "frames decoded" in p.stdout
    finally:
        sim.send_signal(signal.SIGINT)
        sim.wait(timeout=10)
    assert sim.returncode == 0
    assert '"bytes_dropped": 0' in sim.stderr.read()
