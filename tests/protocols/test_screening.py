"""The screen's three statements per ankle (criteria, balance, recommendation): truth tables.

Criteria follow the International Ankle Consortium (Gribble 2014): sprain >= 12 months ago,
giving way >= 2 in 6 months and/or recurrent sprain and/or feelings of instability, CAIT < 24.
"""
import pytest

from rig.published import screening as pub
from rig.session.protocols import load_protocol
from rig.session.screening import ClinicalEntries, criteria, screen

RULES = load_protocol("cai-screen").screening
NORMAL = {"ttb_mean_min_ml_s": 2.0, "ttb_min_ml_s": 0.55, "sd_ml_mm": 6.0}
DEFICIT = {"ttb_mean_min_ml_s": 1.0, "ttb_min_ml_s": 0.36, "sd_ml_mm": 10.0}   # beyond the 33 % MDC
IAC_LEFT = dict(cait_left=18, cait_right=29, sprain_history="left", sprain_months_left=24,
                giving_way_6mo_left=3, giving_way_6mo_right=0, recurrent_sprain="none", feels_unstable="left")


def entries(**kw):
    base = dict(IAC_LEFT)
    base.update(kw)
    return ClinicalEntries(**base)


def names(res, side=None):
    return [f["name"] for f in res.flags if side is None or f["side"] == side]


# ------------------------------------------------------------------ (a) criteria truth table
@pytest.mark.parametrize("months,gw,rec,feel,cait,expected", [
    (24, 3, "none", "none", 18, True),        # all three
    (12, 2, "none", "none", 23, True),        # exactly on the IAC limits
    (11, 3, "none", "none", 18, False),       # sprain too recent
    (24, 1, "none", "none", 18, False),       # one giving way, nothing else
    (24, 1, "left", "none", 18, True),        # recurrent sprain instead of giving way
    (24, 0, "none", "left", 18, True),        # feelings of instability instead
    (24, 3, "none", "none", 24, False),       # CAIT 24 is not < 24 (IAC)
    (None, 3, "none", "none", 18, None),      # sprain time not entered: cannot decide
    (24, None, None, None, 18, None),         # instability items not asked
    (24, 3, "none", "none", None, None),      # CAIT not done
    (None, None, None, None, 28, False),      # CAIT normal decides "no" whatever is missing
])
def test_iac_criteria_truth_table(months, gw, rec, feel, cait, expected):
    e = ClinicalEntries(cait_left=cait, sprain_history="left", sprain_months_left=months,
                        giving_way_6mo_left=gw, recurrent_sprain=rec, feels_unstable=feel)
    met, comps, text = criteria(e, "left")
    assert met is expected
    assert ("meets the International Ankle Consortium" in text) == (expected is True)
    assert ("cannot be decided" in text) == (expected is None)
    assert all(c["statement"] == "criteria" for c in comps)


def test_legacy_entries_cannot_decide_the_time_windows():
    e = ClinicalEntries(cait_left=18, sprain_history="left", giving_way="left")
    met, comps, text = criteria(e, "left")
    assert met is None and "cannot be decided" in text
    assert any(c["value"] == "2 or more, time window not asked" for c in comps)
    met_r, _, _ = criteria(e, "right")          # no sprain on the right: a clear "no"
    assert met_r is False


def test_cait_cutoffs_shown_with_published_likelihood_ratios():
    _, comps, _ = criteria(entries(), "left")
    cait = [c for c in comps if c["component"].startswith("CAIT")]
    assert [c["met"] for c in cait] == [True, True, True]
    text = " ".join(c["threshold"] for c in cait)
    assert "< 24" in text and "<= 25" in text and "<= 27" in text
    assert "LR+ 7.318" in text and "LR- 0.039" in text          # Wright 2014
    assert pub.CAIT_WRIGHT.source.startswith("Wright CJ") and "Arch Phys Med Rehabil 2014;95" in pub.CAIT_WRIGHT.source


# --------------------------------------------------------------------------- the done-when
def test_criteria_met_with_normal_balance_is_told_both_separately():
    res = screen(RULES, entries(), {"left": NORMAL, "right": NORMAL})
    st = res.statements["left"]
    assert st["criteria"]["met"] is True and "meets the International Ankle Consortium criteria" in st["criteria"]["text"]
    assert st["balance"]["finding"] is False and st["balance"]["text"].startswith("no balance impairment found")
    assert st["recommendation"]["flag"] == "possible_cai"
    assert "recommend a clinical assessment" in st["recommendation"]["text"]
    assert names(res, "left") == ["possible_cai"]
    text = "\n".join(res.lines())
    assert "Left ankle\n    Criteria: meets the International Ankle Consortium" in text
    assert "Balance: no balance impairment found" in text
    assert "no flag" not in st["recommendation"]["text"]
    assert "Screening, not diagnosis" in text and "No flag does not exclude CAI" in text
    assert "specific to this device and processing" in text
    right = res.statements["right"]
    assert right["criteria"]["met"] is False and right["recommendation"]["flag"] is None
    assert right["recommendation"]["text"] == "no flag. No flag does not exclude CAI."


# -------------------------------------------------------------------------- (b) balance
def test_balance_lower_than_the_other_side_by_more_than_measurement_error():
    res = screen(RULES, ClinicalEntries(), {"left": DEFICIT, "right": NORMAL})
    b = res.statements["left"]["balance"]
    assert b["finding"] is True
    assert "ttb_mean_min_ml_s lower than your other side by more than measurement error" in b["text"]
    assert "deficit" not in b["text"] and "abnormal" not in b["text"]
    assert res.statements["right"]["balance"]["finding"] is False
    assert res.instrumented_side == "left"
    # no criteria entered: a balance finding alone is a suggestion with the small LRs stated
    rec = res.statements["left"]["recommendation"]
    assert rec["flag"] == "balance_finding" and "Knapp" in rec["text"] and "suggests" in rec["text"]


def test_difference_within_measurement_error_is_no_finding():
    left = {"ttb_mean_min_ml_s": 1.7, "ttb_min_ml_s": 0.5, "sd_ml_mm": 7.0}   # 15-17 % worse: within 33 %
    res = screen(RULES, ClinicalEntries(), {"left": left, "right": NORMAL})
    assert res.statements["left"]["balance"]["finding"] is False and res.instrumented_side is None


def test_trial_to_trial_error_larger_than_the_mdc_is_the_limit():
    noisy = dict(DEFICIT, valid_trials=3.0, trial_sd={"ttb_mean_min_ml_s": 2.0, "sd_ml_mm": 8.0, "ttb_min_ml_s": 0.5})
    res = screen(RULES, ClinicalEntries(), {"left": noisy, "right": dict(NORMAL, valid_trials=3.0,
                                            trial_sd={"ttb_mean_min_ml_s": 2.0, "sd_ml_mm": 8.0, "ttb_min_ml_s": 0.5})})
    side = [c for c in res.components if c["side"] == "left" and c["component"].endswith("vs other side")]
    assert all(c["met"] is False and "trial-to-trial error" in c["threshold"] for c in side)


def test_baseline_comparison_finds_what_the_sides_do_not_show():
    both = {"ttb_mean_min_ml_s": 1.1, "ttb_min_ml_s": 0.5, "sd_ml_mm": 9.0}
    res = screen(RULES, ClinicalEntries(), {"left": both, "right": both}, baseline={"left": NORMAL, "right": both})
    assert res.statements["left"]["balance"]["finding"] is True
    assert "lower than your baseline by more than measurement error" in res.statements["left"]["balance"]["text"]
    assert res.statements["right"]["balance"]["finding"] is False


@pytest.mark.parametrize("value,where,worse", [(0.53, "within", False), (0.30, "outside (below)", True),
                                               (0.80, "outside (above)", False)])
@pytest.mark.parametrize("decides", [False, True])
def test_published_healthy_range_within_or_outside(value, where, worse, decides, monkeypatch):
    """Every measure with a published range is placed within / outside it; it decides a finding
    only when the published table says the values transfer (HEALTHY_RANGE_DECIDES)."""
    monkeypatch.setattr(pub, "HEALTHY_RANGE_DECIDES", decides)
    lo, hi, src = pub.healthy_range("single_leg_eyes_closed", "ttb_min_ml_s")
    assert (lo, hi) == pytest.approx((0.53 - 1.96 * 0.10, 0.53 + 1.96 * 0.10))
    m = dict(NORMAL, ttb_min_ml_s=value)
    res = screen(RULES, ClinicalEntries(), {"left": m, "right": dict(NORMAL, ttb_min_ml_s=value)})
    comp = next(c for c in res.components if c["side"] == "left" and c["component"] == "ttb_min_ml_s, vs published healthy range")
    assert comp["threshold"].startswith(f"{where} the published healthy range 0.334-0.726") and "McKeon" in comp["reference"]
    assert comp["met"] is (worse if decides else None)
    assert ("not used to decide" in comp["threshold"]) is (not decides)
    assert res.statements["left"]["balance"]["finding"] is (worse and decides)
    assert "abnormal" not in "\n".join(res.lines())


def test_healthy_range_interface_is_replaceable():
    calls = []

    def table(condition, measure):
        calls.append((condition, measure))
        return (5.0, 7.0, "site table") if measure == "sd_ml_mm" else None

    res = screen(RULES, ClinicalEntries(), {"left": NORMAL, "right": NORMAL}, healthy_range=table)
    assert ("single_leg_eyes_closed", "sd_ml_mm") in calls
    comp = next(c for c in res.components if c["side"] == "left" and c["component"] == "sd_ml_mm, vs published healthy range")
    assert comp["reference"] == "site table" and comp["threshold"].startswith("within")


def test_no_balance_data_says_so_and_criteria_still_decide():
    res = screen(RULES, entries(), {})
    assert res.statements["left"]["balance"]["finding"] is None
    assert res.statements["left"]["balance"]["text"].startswith("no balance data")
    assert names(res, "left") == ["possible_cai"]


@pytest.mark.parametrize("left_cm,right_cm,finding", [(8.5, 11.0, True), (10.0, 11.0, False)])
def test_lunge_shorter_than_the_other_side_beyond_the_mdc(left_cm, right_cm, finding):
    res = screen(RULES, ClinicalEntries(lunge_left_cm=left_cm, lunge_right_cm=right_cm), {"left": NORMAL, "right": NORMAL})
    assert res.statements["left"]["balance"]["finding"] is finding


def test_touchdowns_are_shown_in_the_balance_statement():
    res = screen(RULES, ClinicalEntries(), {"left": dict(NORMAL, touchdowns=2.0), "right": NORMAL})
    comp = next(c for c in res.components if c["side"] == "left" and c["component"].startswith("touch-downs"))
    assert comp["value"] == "2" and comp["met"] is None


# --------------------------------------------------------------------- (c) recommendation
@pytest.mark.parametrize("kw,bal,flag", [
    ({}, NORMAL, "possible_cai"),                                       # criteria met, balance normal
    ({}, DEFICIT, "possible_cai"),                                      # criteria met, balance finding
    ({"cait_left": 25, "sprain_months_left": 6}, NORMAL, "self_reported_instability"),  # Wright <= 25 only
    ({"cait_left": 28}, DEFICIT, "balance_finding"),                    # balance only
    ({"cait_left": 28}, NORMAL, None),                                  # nothing: no flag
])
def test_recommendation_truth_table(kw, bal, flag):
    res = screen(RULES, entries(**kw), {"left": bal, "right": NORMAL})
    rec = res.statements["left"]["recommendation"]
    assert rec["flag"] == flag
    if flag is None:
        assert "No flag does not exclude CAI" in rec["text"]
    if flag == "self_reported_instability":
        assert "LR+ 7.318" in rec["text"]


def test_criteria_met_is_never_told_no_flag_whatever_the_balance():
    for bal in (NORMAL, DEFICIT, {}):
        res = screen(RULES, entries(), {"left": bal, "right": NORMAL} if bal else {})
        assert res.statements["left"]["recommendation"]["flag"] == "possible_cai"
        assert not any(l.startswith("Left ankle: no flag") for l in res.conclusion)


def test_protocol_refuses_cutoffs_outside_the_published_table(tmp_path):
    from rig.errors import ProtocolFileError

    text = (load_protocol("cai-screen").path and open(load_protocol("cai-screen").path).read())
    bad = tmp_path / "x.toml"
    bad.write_text(text.replace('condition_eyes = "closed"', 'condition_eyes = "closed"\ncait_cutoff = 25'))
    with pytest.raises(ProtocolFileError, match="screening.cait_cutoff.*rig/published/screening.py"):
        load_protocol(bad)


def test_site_mdc_replaces_the_default_only_when_measured_at_the_site():
    from rig.engine.mdc import Mdc, default_mdc
    from rig.session.screening import site_or_default

    class FakeStore:            # as Store.mdc: the site's value when measured, else the shipped one
        def mdc(self, measure):
            if measure == "sd_ml_mm":
                return Mdc(measure, 50.0, "percent", "%", "site test-retest 2026", "site")
            return default_mdc(measure)

    f = site_or_default(FakeStore())
    assert f("sd_ml_mm").origin == "site" and f("sd_ml_mm").value == 50.0
    assert f("ttb_mean_min_ml_s").value == pub.SCREEN_MDC_PCT and "typical error" in f("ttb_mean_min_ml_s").source
    left = dict(NORMAL, sd_ml_mm=8.5)          # 42 % higher: beyond the 33 % default, within the site's 50 %
    assert screen(RULES, ClinicalEntries(), {"left": left, "right": NORMAL}).statements["left"]["balance"]["finding"]
    res = screen(RULES, ClinicalEntries(), {"left": left, "right": NORMAL}, mdc_for=f)
    assert res.statements["left"]["balance"]["finding"] is False
    comp = next(c for c in res.components if c["side"] == "left" and c["component"] == "sd_ml_mm, vs other side")
    assert "measured at this site" in comp["threshold"]
