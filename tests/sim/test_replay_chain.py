"""A real force-plate recording replayed on the simulated board, through link, calibration and
COP, gives the same sway measures as the recording analysed directly."""
import json
import subprocess
import sys

import pytest

from tests.engine.signals import PDS_DIR

pytestmark = pytest.mark.sim


def analyze(path):
    p = subprocess.run([sys.executable, "-m", "rig", "analyze", str(path), "--json"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[0])


def test_replayed_pds_trial_through_the_whole_chain(tmp_path):
    src = PDS_DIR / "PDS13OF1grf.txt"
    out = tmp_path / "replay.csv"
    p = subprocess.run([sys.executable, "-m", "rig", "stream", "--port",
                        f"sim://?seed=1&replay={src}&on_s=1&clock=lockstep&step_s=0.1&rate_hz=100", "--seconds", "62",
                        "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    a, b = analyze(out), analyze(src)
    assert abs(a["duration_s"] - b["duration_s"]) < 0.1
    for k in ("mean_velocity_mm_s", "rms_ml_mm", "rms_ap_mm", "ellipse95_area_mm2"):
        assert a[k] == pytest.approx(b[k], rel=0.01), k
