"""Store API: sessions, trials, per-condition means, baseline, MDC, migrations, calibration."""
import math
import sqlite3

import numpy as np
import pytest

from rig.errors import RigError
from rig.store import Store
from rig.calibration.apply import forces_and_cop
from rig.calibration.record import from_record
from rig.store.schema import SCHEMA_VERSION
from tests.store import synth


def test_session_holds_trials_measures_and_condition_means(two_sessions):
    root, base, later = two_sessions
    with Store.open(root) as store:
        assert store.resolve_session("latest") == later
        s = store.session(base)
        assert s["athlete"] == "A17" and s["status"] == "complete"
        assert s["protocol"]["name"] == "cai-screen" and s["board"]["firmware"] == "1.0.0"
        assert s["calibration"]["is_nominal"] and s["calibration"]["tared"]
        assert len(s["trials"]) == 9 and s["trials"][0]["practice"]
        assert s["flags"][0]["side"] == "left" and s["summary"]["cait"]["left"] == 21
        # per-condition mean: valid, non-practice trials only
        ecr = next(c for c in s["conditions"] if c["side"] == "right" and "closed" in c["task"])
        valid = [t for t in s["trials"] if t["condition_key"] == ecr["key"] and t["status"] == "valid"]
        assert ecr["n_trials"] == 2 and ecr["n_valid"] == 1 == len(valid)
        assert ecr["measures"]["sd_ml_mm"] == pytest.approx(valid[0]["measures"]["sd_ml_mm"])
        eol = next(c for c in s["conditions"] if c["side"] == "left" and "open" in c["task"])
        ts = [t for t in s["trials"] if t["condition_key"] == eol["key"] and not t["practice"]]
        assert eol["n_trials"] == 2
        assert eol["measures"]["mean_velocity_mm_s"] == pytest.approx(
            np.mean([t["measures"]["mean_velocity_mm_s"] for t in ts]))


def test_trial_frames_are_the_appended_frames(tmp_path):
    with Store.open(tmp_path) as store:
        sid = store.new_session("B2", {"name": "p"}, {}, synth.calibration())
        fr = synth.frames_for(*synth.sway(3, 333, 4, 4))
        rec = store.begin_trial(sid, {"name": "x"}, 1)
        for i in range(0, 333, 5):
            rec.append(fr[i:i + 5])
        tid = rec.finish("valid", [], {}, (fr.t_s[0], fr.t_s[-1]), {"a_mm": math.nan, "b_mm": 2.0}, {})
        got = store.trial_frames(tid)
        for name in ("seq", "t_us", "t_s", "host_t_s", "raw", "status"):
            assert np.array_equal(getattr(got, name), getattr(fr, name)) and getattr(got, name).dtype == getattr(fr, name).dtype
        t = store.trial(tid)
        assert math.isnan(t["measures"]["a_mm"]) and t["measures"]["b_mm"] == 2.0
        with pytest.raises(RuntimeError):
            rec.finish("valid", [], {}, (0, 1), {}, {})
        rec.append(fr[:3])  # a listener left attached after finish: ignored, no error
        with pytest.raises(ValueError):
            store.begin_trial(sid, {"name": "x"}, 2).finish("great", [], {}, (0, 1), {}, {})


def test_context_manager_keeps_frames_when_the_trial_raises(tmp_path):
    with Store.open(tmp_path) as store:
        sid = store.new_session("B3", {"name": "p"}, {}, {"id": "nominal"})
        fr = synth.frames_for(*synth.sway(4, 50, 4, 4))
        with pytest.raises(RigError):
            with store.begin_trial(sid, {"name": "x"}, 1) as rec:
                rec.append(fr)
                raise RigError("port sim://: board stopped sending data (unplugged?)")
        (t,) = store.session(sid)["trials"]
        assert t["status"] == "incomplete" and "unplugged" in t["reasons"][0]
        assert t["n_frames"] == 50


def test_baseline_default_marked_and_compared_with_mdc(two_sessions):
    root, base, later = two_sessions
    with Store.open(root) as store:
        assert store.baseline("A17") == base
        cmp = store.compare_with_baseline(later)
        assert cmp["baseline"] == base
        left = [r for r in cmp["rows"] if r["side"] == "left" and r["measure"] == "sd_ml_mm"]
        right = [r for r in cmp["rows"] if r["side"] == "right" and r["measure"] == "sd_ml_mm"]
        assert left and all(r["verdict"] == "worse, beyond MDC" for r in left)
        assert right and all(r["verdict"] == "within measurement error" for r in right)
        # the threshold follows the MDC table: the sourced 33.3 % default for sd_ml_mm (MDC95 of a
        # 12 % typical error, rig.published.screening), 28 % for velocity
        r = left[0]
        assert r["threshold"] == pytest.approx(0.333 * abs(r["baseline"]))
        assert "no published MDC" in r["mdc_source"]
        vel = next(r for r in cmp["rows"] if r["measure"] == "mean_velocity_mm_s")
        assert vel["threshold"] == pytest.approx(0.28 * abs(vel["baseline"])) and "BMC Pediatr" in vel["mdc_source"]
        assert store.compare_with_baseline(base) is None
        # a site's own MDC overrides the shipped one
        store.set_mdc("sd_ml_mm", 50.0, "absolute", "site test-retest 2026, n=20", unit="mm")
        r2 = next(x for x in store.compare_with_baseline(later)["rows"]
                  if x["measure"] == "sd_ml_mm" and x["side"] == "left")
        assert r2["verdict"] == "within measurement error" and r2["mdc_origin"] == "site"
        # marking the later session as baseline; then back to the default
        store.set_baseline("A17", later)
        assert store.baseline("A17") == later and store.compare_with_baseline(later) is None
        store.set_baseline("A17", None)
        assert store.baseline("A17") == base
        with pytest.raises(RigError):
            store.set_baseline("nobody", base)
        with store._tx() as c:
            c.execute("DELETE FROM mdc WHERE origin = 'site'")


def test_schema_is_versioned_and_a_newer_database_is_refused(tmp_path):
    Store.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "rig.sqlite3")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"athletes", "sessions", "trials", "measures", "mdc"} <= tables
    assert conn.execute("SELECT COUNT(*) FROM mdc WHERE source LIKE '%BMC Pediatr%'").fetchone()[0] >= 2
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(RigError, match="newer than this rig"):
        Store.open(tmp_path)


def test_athlete_codes_are_checked_and_details_merged(tmp_path):
    with Store.open(tmp_path) as store:
        for bad in ("", "Jane Roe", "a/b", "x" * 41):
            with pytest.raises(RigError, match="athlete code"):
                store.ensure_athlete(bad)
        store.ensure_athlete("C-3", name="X")
        store.ensure_athlete("C-3", sport="judo")
        assert store.athlete("C-3")["details"] == {"name": "X", "sport": "judo"}
        with pytest.raises(RigError, match="no session"):
            store.session("20990101")
        with pytest.raises(RigError, match="no sessions recorded"):
            Store.open(tmp_path / "empty").session("latest")


def test_session_calibration_recomputes_known_forces_and_cop(tmp_path):
    with Store.open(tmp_path) as store:
        sid = store.new_session("D4", {"name": "p"}, {}, synth.calibration())
        rec = store.session(sid)["calibration"]
    x, y = synth.sway(5, 200, 20, 30, centre=(40, -25))
    fr = synth.frames_for(x, y, weight_n=650.0)
    cal = from_record(rec)
    assert cal.warning == ""
    c = forces_and_cop(cal, fr.raw, fr.t_s)
    forces, fz, cx, cy = c.forces_n, c.fz_n, c.cop_x_mm, c.cop_y_mm
    assert np.allclose(forces, synth.cell_forces(650.0, x, y), atol=1e-3)
    assert np.allclose(fz, 650.0, atol=2e-3)
    assert np.allclose(cx, x, atol=2e-3) and np.allclose(cy, y, atol=2e-3)
    # a record with only the contract's keys still gives forces, with a warning
    bare = {k: rec[k] for k in ("id", "hash", "positions_mm")}
    cal2 = from_record(bare)
    assert "nominal gains" in cal2.warning and "tared" in cal2.warning
    fz2 = forces_and_cop(cal2, np.vstack([np.tile(synth.OFFSETS, (40, 1)), fr.raw]).astype(np.int32),
                         np.concatenate([np.arange(40) * 0.0125, 1.0 + fr.t_s])).fz_n
    assert np.allclose(fz2[40:], 650.0, atol=0.5)


def test_a_trial_tared_on_its_own_uses_its_offsets_in_exports(tmp_path):
    from rig.io.data import TRIAL_TARE_KEY, trial_table

    with Store.open(tmp_path) as store:
        sid = store.new_session("E5", {"name": "p"}, {}, synth.calibration())
        x, y = synth.sway(6, 100, 5, 5)
        fr = synth.frames_for(x, y, weight_n=600.0)
        fr.raw = fr.raw + np.array([1839 * 10, 0, 0, 0], dtype=np.int32)  # FL drifted by 10 N
        drifted = (synth.OFFSETS + [1839 * 10, 0, 0, 0]).tolist()
        rec = store.begin_trial(sid, {"name": "c"}, 1)
        rec.append(fr)
        tid = rec.finish("valid", [], {}, (fr.t_s[0], fr.t_s[-1]), {}, {TRIAL_TARE_KEY: drifted})
        s = store.session(sid)
        cols = trial_table(s, store.trial(tid), store.trial_frames(tid))
    assert np.allclose(cols["fz_n"], 600.0, atol=3e-3)
    assert np.allclose(cols["cop_x_mm"], x, atol=3e-3)
