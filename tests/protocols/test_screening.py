"""The screen's truth table: a flag only when self-report, history and a balance deficit agree."""
import pytest

from rig.session.protocols import load_protocol
from rig.session.screening import ClinicalEntries, screen

RULES = load_protocol("cai-screen").screening
NORMAL = {"ttb_mean_min_ml_s": 2.0, "sd_ml_mm": 6.0}
DEFICIT = {"ttb_mean_min_ml_s": 1.0, "sd_ml_mm": 10.0}   # both beyond the 30 % default MDC


def entries(**kw):
    base = dict(cait_left=18, cait_right=29, sprain_history="left", giving_way="left",
                lunge_left_cm=None, lunge_right_cm=None)
    base.update(kw)
    return ClinicalEntries(**base)


def names(res, side=None):
    return [f["name"] for f in res.flags if side is None or f["side"] == side]


def test_all_three_agree_on_the_left_flags_the_left_with_reasons():
    res = screen(RULES, entries(), {"left": DEFICIT, "right": NORMAL})
    assert names(res, "left")[0] == "possible_cai" and "possible_cai" not in names(res, "right")
    flag = res.flags[0]
    assert flag["label"] == "Possible chronic ankle instability, left: recommend clinical assessment"
    text = " ".join(flag["reasons"])
    assert "CAIT" in text and "Wright" in text and "ttb_mean_min_ml_s" in text and "giving way" in text
    assert res.instrumented_side == "left"
    joined = "\n".join(res.lines())
    assert "POSSIBLE CHRONIC ANKLE INSTABILITY, LEFT" in joined and "not diagnosis" in joined
    assert "Hiller" in joined and "<= 27" in joined and "< 24" in joined    # all three CAIT bands shown
    assert "diagnos" not in flag["label"].lower()


def test_normal_cait_gives_no_flag_and_says_why():
    res = screen(RULES, entries(cait_left=28), {"left": DEFICIT, "right": NORMAL})
    assert "possible_cai" not in names(res)
    assert "single_leg_deficit" in names(res, "left")          # the deficit is still reported
    assert any("self-report (CAIT) normal" in l for l in res.conclusion)


def test_missing_cait_says_missing():
    res = screen(RULES, entries(cait_left=None, cait_right=None), {"left": DEFICIT, "right": NORMAL})
    assert "possible_cai" not in names(res)
    assert any("self-report (CAIT) missing" in l for l in res.conclusion)
    missing = [c for c in res.components if c["component"].startswith("CAIT total")]
    assert all(c["value"] is None and c["met"] is None for c in missing)


def test_deficit_on_the_other_side_than_the_history_gives_no_flag():
    res = screen(RULES, entries(), {"left": NORMAL, "right": DEFICIT})
    assert "possible_cai" not in names(res)
    assert res.instrumented_side == "right"


def test_no_balance_data_says_so():
    res = screen(RULES, entries(), {})
    assert "possible_cai" not in names(res)
    assert any("balance deficit missing" in l for l in res.conclusion)


def test_difference_within_the_mdc_is_not_a_deficit():
    left = {"ttb_mean_min_ml_s": 1.7, "sd_ml_mm": 7.0}    # 15 % and 17 % worse: within 30 %
    res = screen(RULES, entries(), {"left": left, "right": NORMAL})
    assert "possible_cai" not in names(res) and res.instrumented_side is None


def test_baseline_comparison_finds_a_deficit_the_sides_do_not_show():
    both_worse = {"ttb_mean_min_ml_s": 1.1, "sd_ml_mm": 9.0}
    res = screen(RULES, entries(), {"left": both_worse, "right": both_worse},
                 baseline={"left": NORMAL, "right": both_worse})
    assert names(res, "left")[0] == "possible_cai"
    assert any("vs own baseline" in c["component"] and c["met"] for c in res.components if c["side"] == "left")


@pytest.mark.parametrize("left_cm,right_cm,flagged", [(8.5, 11.0, True), (10.0, 11.0, False)])
def test_lunge_asymmetry_beyond_the_mdc_is_a_deficit(left_cm, right_cm, flagged):
    res = screen(RULES, entries(lunge_left_cm=left_cm, lunge_right_cm=right_cm), {"left": NORMAL, "right": NORMAL})
    assert ("possible_cai" in names(res, "left")) == flagged
    assert ("dorsiflexion_asymmetry" in names(res, "left")) == flagged
