"""Scored tests: BESS totals from the clinician's counts, the Romberg quotient, rig score."""
import math

import pytest
from click.testing import CliRunner

from rig.cli import cli
from rig.session.protocols import load_protocol
from rig.session.scores import bess_totals, eyes_pairs, protocol_summary, romberg_quotients
from rig.store import Store


def test_bess_totals_cap_each_condition_at_10_and_split_by_surface():
    surfaces = {"bipedal_firm": "firm", "single_firm": "firm", "tandem_foam": "foam"}
    t = bess_totals({"bipedal_firm": 1, "single_firm": 14, "tandem_foam": 6}, surfaces)
    assert t["conditions"] == {"bipedal_firm": 1, "single_firm": 10, "tandem_foam": 6}
    assert (t["firm"], t["foam"], t["total"], t["max_total"]) == (11, 6, 17, 30)
    with pytest.raises(ValueError):
        bess_totals({"bipedal_firm": -1}, surfaces)


def test_romberg_quotient_is_eyes_closed_over_eyes_open_for_matched_conditions():
    p = load_protocol("romberg")
    assert eyes_pairs(p.conditions) == [("bipedal_eyes_open", "bipedal_eyes_closed")]
    means = {"bipedal_eyes_open": {"path_length_mm": 200.0, "mean_velocity_mm_s": 8.0, "sd_ml_mm": 2.0},
             "bipedal_eyes_closed": {"path_length_mm": 300.0, "mean_velocity_mm_s": 10.0, "sd_ml_mm": 3.0}}
    rq = {r["measure"]: r for r in romberg_quotients(p.conditions, means, p.measures)}
    assert rq["path_length_mm"]["quotient_pct"] == pytest.approx(150.0)
    assert rq["mean_velocity_mm_s"]["quotient_pct"] == pytest.approx(125.0)
    assert "sd_ml_mm" not in rq           # the quotient is taken on path, velocity and area only
    assert rq["path_length_mm"]["eyes_open_value"] == 200.0
    s = protocol_summary(p, means)
    assert s["measures"] == list(p.measures) and len(s["romberg_quotient"]) == 2
    zero = {"bipedal_eyes_open": {"path_length_mm": 0.0}, "bipedal_eyes_closed": {"path_length_mm": 5.0}}
    assert math.isnan(romberg_quotients(p.conditions, zero, ["path_length_mm"])[0]["quotient_pct"])
    # single-leg pairs match per leg; BESS has no eyes-open condition: no quotient
    sls = load_protocol("single-leg-stance")
    assert sorted(eyes_pairs(sls.conditions)) == [("single_left_eyes_open", "single_left_eyes_closed"),
                                                  ("single_right_eyes_open", "single_right_eyes_closed")]
    assert eyes_pairs(load_protocol("bess").conditions) == []


def _bess_session(data_dir, candidates_per_condition):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
    from synth import calibration, frames_for, sway

    p = load_protocol("bess")
    with Store.open(data_dir) as st:
        sid = st.new_session("B7", p.as_dict(), {"board_id": "x", "rate_hz": 80.0}, calibration(), {})
        for i, c in enumerate(p.conditions):
            x, y = sway(i, 160, 3.0, 4.0)
            rec = st.begin_trial(sid, p.condition_dict(c), 1)
            rec.append(frames_for(x, y, t0_s=10.0 * i))
            cands = [{"t_s": 1.0 + k, "kind": "step or touch-down", "detail": "force drop"}
                     for k in range(candidates_per_condition.get(c.name, 0))]
            rec.finish("valid", [], {}, (10.0 * i, 10.0 * i + 2), {"sd_ml_mm": 3.0}, {"error_candidates": cands})
        st.set_session_result(sid, {"protocol": "bess"}, [])
    return sid


def test_rig_score_stores_totals_with_the_session(tmp_path):
    data = tmp_path / "d"
    sid = _bess_session(data, {"single_firm": 2, "tandem_foam": 1})
    args = ["score", sid, "--data-dir", str(data)]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1 and "--errors bipedal_firm=N" in str(r.exception)
    r = CliRunner().invoke(cli, args + ["--errors", "bipedal_firm=0", "--errors", "single_firm=3",
                                        "--errors", "tandem_firm=2", "--errors", "bipedal_foam=1",
                                        "--errors", "single_foam=7", "--errors", "tandem_foam=4"])
    assert r.exit_code == 0, r.output
    assert "total                     17 of 60" in r.output and "(board proposed 2)" in r.output
    with Store.open(data) as st:
        s = st.session(sid)
    b = s["summary"]["bess"]
    assert b["conditions"]["single_firm"] == 3 and (b["firm"], b["foam"], b["total"]) == (5, 12, 17)
    assert b["candidates"]["single_firm"] == 2 and b["complete"]
    assert s["status"] == "complete"
    r = CliRunner().invoke(cli, ["history", "B7", "--data-dir", str(data)])
    assert "BESS 17 errors (firm 5, foam 12)" in r.output
    pdf = tmp_path / "b.pdf"
    r = CliRunner().invoke(cli, ["report", sid, "--out", str(pdf), "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    import subprocess

    p1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "BESS condition" in p1 and "17 of 60" in p1
    r = CliRunner().invoke(cli, args + ["--errors", "nope=1"])
    assert r.exit_code == 1 and "no condition nope" in str(r.exception)
