"""The Posture Data Set (dos Santos et al. 2017): our engine reproduces the published
COParea, COPvelo and COPmfreq of subject 13's twelve trials, through the API and the CLI."""
import json

import numpy as np
import pytest

from rig.engine.preprocess import Trace
from rig.engine.sway import compute_measures
from rig.io.traces import read_trace
from tests.cli import rig
from tests.engine.signals import PDS_DIR, PDS_TRIALS, pds_published

PUBLISHED = pds_published()
REL = 1e-6


def check(trial, area_mm2, velo_mm_s, mfreq_hz):
    area_cm2, velo_cm_s, mfreq = PUBLISHED[trial]
    assert area_mm2 / 100.0 == pytest.approx(area_cm2, rel=REL)
    assert velo_mm_s / 10.0 == pytest.approx(velo_cm_s, rel=REL)
    assert mfreq_hz == pytest.approx(mfreq, rel=REL)


def test_all_twelve_trials_are_present():
    assert sorted(PUBLISHED) == sorted(PDS_TRIALS)


@pytest.mark.parametrize("trial", PDS_TRIALS)
def test_api_reproduces_published_values(trial):
    raw = read_trace(PDS_DIR / f"{trial}grf.txt")
    assert raw.t_s.size == 6000
    m = compute_measures(Trace.as_given(raw.t_s, raw.cop_x_mm, raw.cop_y_mm, raw.fz_n),
                         research=False)
    assert m["fs_hz"] == 100.0
    check(trial, m["ellipse95_area_mm2"], m["mean_velocity_mm_s"], m["mean_power_frequency_hz"])


def run_cli(capsys, *args):
    return rig(capsys, *args)


def test_cli_reproduces_published_values_from_csv(tmp_path, capsys):
    paths = []
    for trial in PDS_TRIALS:
        d = np.loadtxt(PDS_DIR / f"{trial}grf.txt", skiprows=1)
        p = tmp_path / f"{trial}.csv"
        # our frame: x = ML = 1000 * COPNET_Z, y = AP = 1000 * COPNET_X (README of the data)
        rows = np.column_stack([d[:, 0], d[:, 18] * 1000, d[:, 16] * 1000, d[:, 8]])
        with open(p, "w") as f:
            f.write(f"# converted from {trial}grf.txt\nt_s,cop_x_mm,cop_y_mm,fz_n\n")
            f.writelines(",".join(repr(float(v)) for v in r) + "\n" for r in rows)
        paths.append(str(p))
    code, out, err = run_cli(capsys, "analyze", "--json", "--filter", "none", *paths)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 12
    for trial, line in zip(PDS_TRIALS, lines):
        obj = json.loads(line)
        assert obj["path"].endswith(f"{trial}.csv") and obj["processing"]["preset"] == "none"
        assert obj["n_samples"] == 6000 and obj["fs_hz"] == 100.0
        check(trial, obj["ellipse95_area_mm2"], obj["mean_velocity_mm_s"], obj["mean_power_frequency_hz"])


def test_cli_reads_the_pds_files_directly(capsys):
    paths = [str(PDS_DIR / f"{t}grf.txt") for t in PDS_TRIALS[:3]]
    code, out, err = run_cli(capsys, "analyze", "--json", "--filter", "none", *paths)
    assert code == 0, err
    for trial, line in zip(PDS_TRIALS, out.splitlines()):
        obj = json.loads(line)
        assert obj["format"] == "pds-grf"
        check(trial, obj["ellipse95_area_mm2"], obj["mean_velocity_mm_s"], obj["mean_power_frequency_hz"])


def test_default_filter_changes_velocity_not_area_much():
    raw = read_trace(PDS_DIR / "PDS13OR1grf.txt")
    from rig.engine.preprocess import preprocess
    m = compute_measures(preprocess(raw.t_s, raw.cop_x_mm, raw.cop_y_mm), research=False)
    area_cm2, velo_cm_s, _ = PUBLISHED["PDS13OR1"]
    # a 10 Hz low-pass removes little of quiet-stance sway: area within 1 %, velocity lower
    assert m["ellipse95_area_mm2"] / 100 == pytest.approx(area_cm2, rel=0.01)
    assert m["mean_velocity_mm_s"] / 10 < velo_cm_s
