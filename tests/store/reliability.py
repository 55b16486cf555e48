"""Helpers for the reliability tests: `rig` in a subprocess, a protocol, the data directory's
state read back without recovering it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from rig.store import Store

REPO = Path(__file__).resolve().parents[2]

TWO_TRIALS = """
name = "two-trials"
version = "1"
title = "Two bipedal trials"
measures = ["sd_ml_mm"]
[defaults]
trial_duration_s = {duration}
trials = 2
practice_trials = 0
rest_s = 2.0
countdown_s = 1.0
lead_in_s = 0.0
[[conditions]]
name = "bipedal_eyes_open"
stance = "bipedal"
eyes = "open"
[validity]
stepped_off_fraction = 0.5
stepped_off_s = 0.3
max_touchdowns = 5
weight_tolerance = 0.5
max_outside_foot_fraction = 1.0
max_lost_fraction = 0.5
"""


def protocol(tmp_path: Path, duration_s: float = 3.0) -> str:
    p = tmp_path / "two-trials.toml"
    p.write_text(TWO_TRIALS.replace("{duration}", f"{duration_s:g}"))
    return str(p)


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONUNBUFFERED"] = "1"
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("RIG_DATA_DIR", None)
    e.pop("DISPLAY", None)
    e.pop("WAYLAND_DISPLAY", None)
    return e


def rig_cmd(*argv) -> list[str]:
    return [sys.executable, "-m", "rig", *map(str, argv)]


def run_rig(*argv, timeout=300, preexec_fn=None) -> subprocess.CompletedProcess:
    return subprocess.run(rig_cmd(*argv), capture_output=True, text=True, env=env(), cwd=REPO,
                          timeout=timeout, preexec_fn=preexec_fn)


def start_rig(*argv, preexec_fn=None) -> subprocess.Popen:
    return subprocess.Popen(rig_cmd(*argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env(), cwd=REPO, preexec_fn=preexec_fn)


def kill_at(proc: subprocess.Popen, marker: str, nth: int = 1) -> list[str]:
    """Read the process's output until the ``nth`` line containing ``marker``, then SIGKILL it.
    Returns the lines read; fails if the process ends first."""
    seen, lines = 0, []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if marker in line:
            seen += 1
            if seen == nth:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return lines
    proc.wait()
    raise AssertionError(f"process ended (code {proc.returncode}) before {marker!r} #{nth}:\n"
                         + "\n".join(lines[-30:]))


def state(data_dir) -> list[dict]:
    """Every session with its trials, read without recovering anything."""
    with Store.open(data_dir, recover=False) as s:
        return [s.session(r["id"]) for r in s.sessions()]


def leftovers(data_dir) -> list[str]:
    """Temporary files left anywhere in the data directory."""
    return sorted(str(p) for p in Path(data_dir).rglob("*") if ".tmp" in p.name)
