"""SIGKILL at every step of a session (zeroing, weighing, taking the stance, recording, after
a trial, zeroing and resting between trials, after the commit): after `rig recover` no session
is left open, a trial being recorded is recovered as incomplete, and `rig recover` says what it
did. Steps are found from the runner's own output; all timing is the simulated board's."""
import pytest

from tests.store.reliability import kill_at, protocol, run_rig, start_rig, state

pytestmark = pytest.mark.sim

# (marker in the output, which occurrence, what the process was doing when killed)
STEPS = [
    ("Zeroing", 1, "zeroing"),
    ("body mass measured", 1, "weighing"),
    ("Stand on both feet", 1, "waiting for the stance"),
    (": recording", 1, "recording the first trial"),
    ("trial 1: valid", 1, "after the first trial, before the rest"),
    ("Step off the board", 1, "zeroing between trials"),
    ("Stand on both feet", 2, "after the rest, waiting for the second stance"),
    (": recording", 2, "recording the second trial"),
    ("Session finished", 1, "after the last trial, before the result is stored"),
    ("Session saved", 1, "after the commit"),
]


@pytest.mark.parametrize("marker,nth,step", STEPS, ids=[s[2] for s in STEPS])
def test_sigkill_at_each_step_leaves_no_session_open_after_recover(tmp_path, marker, nth, step):
    data = tmp_path / "data"
    # 6 s trials at 16x: a recording lasts as long in wall time as 3 s at 8x (the kill lands in it),
    # the waits around it take half as long
    proc = start_rig("run", protocol(tmp_path, duration_s=6.0), "--port", "sim://?seed=5&mass_kg=70&speed=16",
                     "--athlete", "K7", "--no-live", "--yes", "--data-dir", data)
    kill_at(proc, marker, nth)
    before = state(data)
    assert len(before) == 1, step
    r = run_rig("recover", "--data-dir", data)
    assert r.returncode == 0, r.stderr
    after = state(data)
    assert [s["status"] for s in after] != ["open"], step
    assert after[0]["status"] in ("complete", "incomplete")
    if before[0]["status"] == "open":       # something was left open: recover says so
        assert f"session {after[0]['id']}" in r.stdout and "closed as" in r.stdout, r.stdout
    if step == "after the commit":
        assert after[0]["status"] == "complete"
    if step.startswith("recording the"):
        t = after[0]["trials"][-1]
        assert t["status"] == "incomplete" and t["recovered"] and t["n_frames"] > 0
        assert f"recovered trial {t['id']}" in r.stdout
    # a second recover has nothing left to do
    again = run_rig("recover", "--data-dir", data)
    assert again.returncode == 0 and "nothing to recover" in again.stdout
