"""One number per condition, whoever shows it: the screen's input (and the printed results),
``rig history``, the JSON export and the report average a condition's trials by the one rule
(rig.engine.aggregate), so a NaN in one trial cannot make them disagree."""
import json
import math

import numpy as np

from rig.engine.aggregate import trial_means
from rig.io import export
from rig.report import content
from rig.session.results import TrialResult
from rig.session.runner import condition_means
from rig.store import Store
from tests.store import synth

COND = {"name": "single-leg eyes closed left", "stance": "single-leg", "eyes": "closed",
        "surface": "firm", "side": "left"}
VALUES = [0.9, math.nan, 1.1]           # sd_ml_mm of three valid trials: NaN in the second


def _session(root):
    cal = synth.calibration()
    with Store.open(root) as store:
        store.ensure_athlete("N1")
        sid = store.new_session("N1", {"name": "p", "version": "1"}, {"board_id": "sim"}, cal)
        fr = synth.frames_for(*synth.sway(1, 80, 3, 3), cal=cal)
        for i, v in enumerate(VALUES, start=1):
            rec = store.begin_trial(sid, COND, i)
            rec.append(fr)
            rec.finish("valid", [], {"frames_decoded": len(fr)}, (float(fr.t_s[0]), float(fr.t_s[-1])),
                       {"sd_ml_mm": v, "mean_velocity_mm_s": 10.0 * i}, {})
        store.set_session_status(sid, "complete")
    return sid


def test_every_consumer_shows_the_same_condition_mean_with_a_nan_trial(tmp_path, capsys):
    sid = _session(tmp_path)
    expected = 1.0                                   # NaN left out of that measure's mean
    # the rule itself
    assert trial_means([{"sd_ml_mm": v} for v in VALUES]).means["sd_ml_mm"] == expected
    # the screen's input and the printed results (the runner's per-condition means)
    trials = [TrialResult(COND["name"], i, False, "valid", [], {"sd_ml_mm": v}) for i, v in enumerate(VALUES, 1)]
    assert condition_means(trials)[COND["name"]]["sd_ml_mm"] == expected
    with Store.open(tmp_path) as store:
        s = store.session(sid)
        # the store's conditions: what rig history, the report and the exports read
        (c,) = s["conditions"]
        assert c["measures"]["sd_ml_mm"] == expected and c["n_per_measure"]["sd_ml_mm"] == 2
        # the JSON export
        out = tmp_path / "s.json"
        export(store, sid, out)
        data = json.loads(out.read_text())
        exported = [x for x in data["conditions"] if x["condition"]["name"] == COND["name"]]
        assert exported[0]["measures"]["sd_ml_mm"] == expected
        # the report's measure table
        rows = [r for b in content._measures(s) if b[0] == "table" for r in b[1].rows]
        sd_row = next(r for r in rows if r[0].startswith("SD ML"))
        assert float(sd_row[-1]) == expected
    # rig history
    from rig.cli import main
    import pytest

    with pytest.raises(SystemExit):
        main(["history", "N1", "--data-dir", str(tmp_path), "--measure", "sd_ml_mm"])
    hist = capsys.readouterr().out
    line = next(ln for ln in hist.splitlines() if ln.startswith("* ") and "  " in ln and ":" in ln
                and ln.split()[-1].replace(".", "").isdigit())
    assert float(line.split()[-1]) == expected and "nan" not in hist.lower()
