"""The report's screening wording: three statements, published healthy ranges with sources,
the simulated accuracy in the limits, and no "deficit" or "abnormal"."""
from rig.published import screening as pub
from rig.report import content
from rig.session.protocols import load_protocol
from rig.session.screening import ClinicalEntries, screen

RULES = load_protocol("cai-screen").screening
NORMAL = {"ttb_mean_min_ml_s": 2.0, "ttb_min_ml_s": 0.55, "sd_ml_mm": 6.0, "mean_velocity_mm_s": 80.0}
IAC_LEFT = ClinicalEntries(cait_left=18, cait_right=29, sprain_history="left", sprain_months_left=24,
                           giving_way_6mo_left=3, giving_way_6mo_right=0, recurrent_sprain="none",
                           feels_unstable="left")


def text_of(blocks) -> str:
    out = []
    for b in blocks:
        if b[0] == "bullets":
            out += b[1]
        elif b[0] == "table":
            out += [" | ".join(r) for r in b[1].rows] + [b[1].caption, " | ".join(b[1].columns)]
        else:
            out.append(str(b[1]))
    return "\n".join(out)


def test_report_tells_criteria_and_balance_separately_with_published_ranges():
    res = screen(RULES, IAC_LEFT, {"left": NORMAL, "right": NORMAL})
    s = {"flags": res.flags, "summary": res.summary, "status": "complete"}
    text = text_of(content._screening(s))
    assert "Result in detail (screening, not diagnosis)" in text
    assert "Criteria: meets the International Ankle Consortium criteria" in text
    assert "Balance: no balance impairment found" in text
    assert "Recommendation: recommend a clinical assessment for chronic ankle instability" in text
    assert "no flag does not exclude cai" in text.lower()
    assert "specific to this device and processing" in text
    assert "lower than your other side by more than measurement error" in text
    # the balance values against the published healthy range, each with its source
    assert "within the published healthy range 0.334-0.726" in text          # TTB ML absolute minimum
    assert "within the published healthy range 48.8-123" in text             # EC velocity, 86 +- 19 mm/s
    assert "McKeon PO, Hertel J" in text and "J Sports Sci Med 2018" in text
    ours = text.replace(pub.MCKEON_HERTEL_2008, "")          # a cited title may say "deficits"
    assert "deficit" not in ours.lower() and "abnormal" not in ours.replace('never "abnormal"', "").lower()


def test_limits_state_the_simulated_accuracy_as_simulated():
    lim = "\n".join(content.limitations())
    acc = pub.SIMULATED_ACCURACY
    assert f"sensitivity {acc['sensitivity']:.0%}, specificity {acc['specificity']:.0%}" in lim
    assert "SIMULATED, not clinical" in lim and acc["command"] in lim and acc["date"] in lim
    assert "Screening, not diagnosis" in lim and "No flag does not exclude CAI" in lim
    assert "specific to this device and processing" in lim
    assert "deficit" not in lim.lower()
