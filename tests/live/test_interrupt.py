"""Ctrl-C with the live view open, after each progress line of a session: one line, exit 130,
nothing lost, and ``rig run --resume`` finishes the session.

The moments are chosen by progress, not by the clock: the run's own output lines (phases and
trial results, printed as they happen) are counted and SIGINT is sent a seeded random fraction
of a second after each one of them in turn, so the moments cover zeroing, weighing, countdowns,
recordings, rests and analysis on any host, every phase at least once. Only outcomes are asserted.
"""
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")
pytestmark = pytest.mark.gui

TINY = """\
name = "tiny"
version = "1.0"
title = "Tiny bipedal protocol (interrupt test)"
measures = ["mean_velocity_mm_s", "sd_ml_mm"]

[defaults]
trial_duration_s = 1.5
trials = 3
practice_trials = 0
rest_s = 0.5
countdown_s = 0.5
lead_in_s = 0.0
min_rate_hz = 50.0

[[conditions]]
name = "bipedal_open"
stance = "bipedal"
eyes = "open"

[validity]
stepped_off_fraction = 0.5
stepped_off_s = 0.3
"""
SPEED = 16          # board seconds per wall second (lockstep: speed x 5 ms per empty read); the
                    # live view draws ~30 times a wall second, so a faster board draws less per trial
PORT = f"sim://?seed=4&speed={SPEED}"
# a run prints 15 lines up to "Session finished" (zeroing, weighing, then per trial: stance,
# recording, verdict, step off); SIGINT follows each of the first 13 once, which leaves at least
# the last trial to come: every phase of a trial, and the first, middle and last trial
N = 13
MAX_DELAY_BOARD_S = 1.2     # the signal comes up to this much board time after its line


def _env(data_dir):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1", RIG_DATA_DIR=str(data_dir))
    env.pop("RIG_PORT", None)
    return env


def _rig(*args):
    return [sys.executable, "-c", "from rig.cli import main; main()", *args]


def _interrupted_run(proto, data_dir, after_line: int, delay_s: float):
    """Run the protocol with the live view; SIGINT ``delay_s`` after output line ``after_line``."""
    p = subprocess.Popen(_rig("run", str(proto), "--port", PORT, "--athlete", "INT1", "--yes"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(data_dir))
    lines: list[str] = []
    sent = threading.Event()

    def fire():
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        sent.set()

    for line in p.stdout:
        lines.append(line.rstrip("\n"))
        if len(lines) == after_line + 1 and not sent.is_set():
            threading.Timer(delay_s, fire).start()
    err = p.stderr.read()
    rc = p.wait(timeout=300)
    sent.wait(timeout=10)
    return rc, lines, err


def _store_session(data_dir, sid):
    from rig.store import Store

    with Store.open(data_dir) as st:
        return st.session(sid)


def test_sigint_with_the_live_view_open_after_each_progress_line(tmp_path):
    proto = tmp_path / "tiny.toml"
    proto.write_text(TINY)
    rng = np.random.default_rng(20261127)
    interrupted = 0
    for k in range(N):
        data_dir = tmp_path / f"d{k}"
        after, delay = k, float(rng.uniform(0.0, MAX_DELAY_BOARD_S)) / SPEED
        rc, out, err = _interrupted_run(proto, data_dir, after, delay)
        assert "Traceback" not in err and "Error calling Python override" not in err, err
        assert rc in (0, 130), (rc, err)        # never a crash (segfault: -11 / 139)
        from rig.store import Store

        with Store.open(data_dir) as st:
            sessions = st.sessions()
        assert len(sessions) == 1
        sid = sessions[0]["id"]
        s = _store_session(data_dir, sid)
        if rc == 0:             # the signal came after the session ended: complete and printed
            assert s["status"] == "complete"
            continue
        interrupted += 1
        errors = [e for e in err.splitlines() if e.startswith("Error:")]
        assert len(errors) == 1 and "stopped by the operator (Ctrl-C)" in errors[0], err
        assert f"rig run --resume {sid}" in errors[0]
        assert s["status"] == "incomplete"
        # nothing recorded is lost: every trial the run reported is stored with its verdict
        reported = [ln for ln in out if ", trial " in ln and (": valid" in ln or ": INVALID" in ln)]
        stored = {t["id"]: t for t in s["trials"]}
        assert len([t for t in stored.values() if t["status"] in ("valid", "invalid")]) == len(reported)
        # --resume finishes it: the missing trials only, the earlier ones kept
        r = subprocess.run(_rig("run", "--resume", sid, "--port", PORT, "--yes"), capture_output=True,
                           text=True, env=_env(data_dir), timeout=300)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
        done = _store_session(data_dir, sid)
        assert done["status"] == "complete"
        assert set(stored) <= {t["id"] for t in done["trials"]}
        valid = [t for t in done["trials"] if t["status"] == "valid" and not t["practice"]]
        assert len(valid) == 3
        assert sorted(t["index"] for t in valid) == sorted(set(t["index"] for t in valid))
    assert interrupted >= N - 3     # nearly every moment falls inside the session
