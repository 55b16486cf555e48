"""The simulated world on the board: a person, static loads, replayed recordings."""
import numpy as np
import pytest

from rig.sim.board import NOMINAL_CELL_POSITIONS_MM as POS
from rig.sim.scene import build_scene, parse_script, static_load_forces
from rig.engine.cop import cop_from_forces
from rig.io.traces import read_trace
from tests.engine.signals import PDS_DIR

G = 9.80665
FS = 100.0


def world(q: str, seconds: float, seed: int = 1, chunk: int = 37):
    opts = {}
    for kv in filter(None, q.split("&")):
        k, v = kv.split("=", 1)
        opts.setdefault(k, []).append(v)
    sc = build_scene(opts, np.random.default_rng(seed), POS)
    t = np.arange(0, seconds, 1 / FS)
    f = np.concatenate([sc.forces_n(t[i:i + chunk]) for i in range(0, len(t), chunk)])
    fz, x, y = cop_from_forces(f, POS)
    return sc, t, f, fz, x, y


def test_same_world_whatever_the_chunks():
    a = world("stance=single_left&eyes=closed&profile=cai", 20, chunk=7)[2]
    b = world("stance=single_left&eyes=closed&profile=cai", 20, chunk=500)[2]
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    c = world("stance=single_left&eyes=closed&profile=cai", 20, seed=2)[2]
    assert not np.allclose(a, c)


def test_person_steps_on_with_their_weight_and_stands_on_the_marks():
    sc, t, f, fz, x, y = world("mass_kg=70&on_s=2", 12)
    assert np.all(fz[t < 1.9] < 1e-9)
    on = t > 4
    assert fz[on].mean() == pytest.approx(70 * G, rel=0.002)
    assert abs(np.nanmean(x[on])) < 3 and abs(np.nanmean(y[on])) < 5
    _, t, _, fz, x, _ = world("mass_kg=70&stance=single_right", 12)
    assert np.nanmean(x[t > 4]) == pytest.approx(100, abs=3)      # right foot on its mark


def sd_ml(q, seed=1):
    """ML COP SD of the sway (mm): after 5 s, without the free foot's spontaneous touch-downs."""
    sc, t, _, _, x, _ = world(q, 60, seed=seed)
    keep = t > 5
    for t0, d in sc.sources[0].segments[0].touchdowns:
        keep &= ~((t > t0 - 0.2) & (t < t0 + d + 0.5))
    return float(np.nanstd(x[keep]))


def test_sway_grows_with_harder_conditions_and_on_the_injured_ankle():
    bip = sd_ml("stance=bipedal")
    single = sd_ml("stance=single_left")
    closed = sd_ml("stance=single_left&eyes=closed")
    foam = sd_ml("stance=single_left&eyes=closed&surface=foam")
    assert bip < single < closed < foam
    assert 1.0 < bip < 5.0 and 2.5 < single < 10        # mm, the size force plates report
    injured = sd_ml("stance=single_left&eyes=closed&profile=cai-demo&injured=left")
    healthy_side = sd_ml("stance=single_right&eyes=closed&profile=cai-demo&injured=left")
    assert injured > 1.2 * healthy_side


def test_scripted_touchdown_moves_the_cop_towards_the_free_foot_at_that_time():
    _, t, _, fz, x, _ = world("mass_kg=80&stance=single_left&events=touchdown@8:0.6", 12)
    during = (t > 8.15) & (t < 8.45)
    before = (t > 6) & (t < 7.8)
    assert np.nanmean(x[during]) - np.nanmean(x[before]) > 50       # 40 % of the weight 200 mm away
    assert fz[during].mean() == pytest.approx(80 * G, rel=0.01)       # the weight is shared, not lost


def test_stepoff_lean_and_shift_events():
    _, t, _, fz, x, y = world("stance=bipedal&events=stepoff@6", 9)
    assert np.all(fz[t > 6.6] < 1e-9) and fz[(t > 4) & (t < 6)].min() > 300
    _, t, _, _, x, y = world("stance=bipedal&events=lean@5:2,shift@8:120", 10)
    assert np.nanmean(y[(t > 5.5) & (t < 7)]) > 40
    assert np.nanmean(x[t > 8.5]) == pytest.approx(120, abs=8)


def test_script_is_a_timetable_with_rests_off_the_board():
    sc, t, _, fz, x, _ = world("script=single_left:closed:8,single_right:open:8&rest_s=4&on_s=1", 30)
    segs = sc.sources[0].segments
    assert [s.stance for s in segs] == ["single_left", "single_right"]
    assert segs[1].start_s >= segs[0].end_s + 4
    on0 = (t > segs[0].start_s + 2.5) & (t < segs[0].end_s - 0.5)
    gap = (t > segs[0].end_s + 0.6) & (t < segs[1].start_s - 0.1)
    on1 = (t > segs[1].start_s + 2.5) & (t < segs[1].end_s - 0.5)
    assert np.nanmean(x[on0]) < -90 and np.nanmean(x[on1]) > 90
    assert np.all(fz[gap] < 1e-9)
    with pytest.raises(ValueError, match="STANCE"):
        parse_script("sideways:open:10")


def test_hop_landing_impact_and_slower_settling_on_the_injured_ankle():
    def landing(side):
        _, t, _, fz, x, _ = world(f"mass_kg=70&profile=cai&injured=left&script=hop_{side}:6&on_s=1", 8)
        bw = 70 * G
        peak = fz.max() / bw
        land = t[np.argmax(fz > 0.1 * bw)]
        assert 2.0 < peak < 4.5 and 0.95 < land < 1.05
        return peak
    landing("left"), landing("right")
    # the injured ankle's sway decays more slowly after landing
    _, t, _, _, xl, _ = world("mass_kg=70&profile=cai&injured=left&script=hop_left:6&on_s=1&sway=1", 8)
    _, t, _, _, xr, _ = world("mass_kg=70&profile=cai&injured=left&script=hop_right:6&on_s=1&sway=1", 8)
    w = (t > 1.6) & (t < 2.6)
    assert np.nanstd(xl[w]) > np.nanstd(xr[w])


def test_static_loads_are_exact():
    _, _, f, fz, x, y = world("person=0&load=20@50,-30&load=10@-100,100", 1)
    expect = static_load_forces([(20, 50, -30), (10, -100, 100)], POS)
    np.testing.assert_allclose(f, np.tile(expect, (len(f), 1)))
    assert x[0] == pytest.approx((20 * 50 + 10 * -100) / 30)
    assert y[0] == pytest.approx((20 * -30 + 10 * 100) / 30)


def test_replay_turns_a_recording_into_consistent_cell_loads():
    path = PDS_DIR / "PDS13OF1grf.txt"
    rec = read_trace(str(path))
    _, t, _, fz, x, y = world(f"replay={path}&on_s=0", 20)
    r = rec.t_s - rec.t_s[0]
    exp_x = np.interp(t, r, rec.cop_x_mm - np.median(rec.cop_x_mm))
    # the load ramps on and off over STEP_RAMP_S (stepping on takes a moment)
    from rig.sim.scene import STEP_RAMP_S
    ramp = np.clip(np.minimum(t, r[-1] - t) / STEP_RAMP_S, 0, 1)
    exp_fz = np.interp(t, r, rec.fz_n) * ramp
    on = ramp > 0
    np.testing.assert_allclose(x[on], exp_x[on], atol=1e-6)
    np.testing.assert_allclose(fz, exp_fz, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("q,needle", [
    ("profile=weird", "profile"), ("stance=one_leg", "stance"), ("load=20", "KG@X,Y"),
    ("events=jump@3", "kinds"), ("script=single_left:open", "SECONDS"), ("mass_kg=-5", "mass_kg"),
    ("events=touchdown@5", "single-leg"), ("person=0&script=bipedal:open:5", "person"),
])
def test_bad_options_name_themselves(q, needle):
    with pytest.raises(ValueError, match=needle):
        world(q, 1)
