"""`rig analyze` and the trace reader: stream-style CSV files, output, one-line errors."""
import json
import re

import numpy as np
import pytest

from rig.engine.cop import cop_from_forces
from rig.io.traces import read_trace
from tests.cli import rig
from tests.engine.signals import circle

NOMINAL = np.array([[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]])
REQUIRED_KEYS = ("path_length_mm", "mean_velocity_mm_s", "mean_velocity_ml_mm_s",
                 "mean_velocity_ap_mm_s", "rms_ml_mm", "rms_ap_mm", "range_ml_mm", "range_ap_mm",
                 "ellipse95_area_mm2", "convex_hull_area_mm2", "mean_power_frequency_hz",
                 "f95_ml_hz", "f95_ap_hz", "n_samples", "fs_hz", "processing")


def run(capsys, *args):
    return rig(capsys, "analyze", *args)


def stream_csv(path, rng, empty_start_s=1.0, empty_end_s=0.5, fs=80.0, seconds=12.0):
    """A file shaped like `rig stream` output: '#' metadata, raw columns, forces, COP; the
    COP is 'nan' while the board is empty; COP comes from cell forces of a circling load."""
    n = int(seconds * fs)
    t = np.cumsum(rng.normal(1 / fs, 0.0005, n))
    t -= t[0]
    phase = 2 * np.pi * 0.5 * t
    px, py = 10 + 8 * np.cos(phase), -5 + 8 * np.sin(phase)
    u, v = (px + 180) / 360, (py + 180) / 360
    fz = np.full(n, 700.0)
    on = (t >= empty_start_s) & (t <= t[-1] - empty_end_s)
    fz[~on] = 0.0
    forces = np.column_stack([fz * (1 - u) * v, fz * u * v, fz * (1 - u) * (1 - v), fz * u * (1 - v)])
    forces += rng.normal(0, 0.05, forces.shape)
    fz_n, x, y = cop_from_forces(forces, NOMINAL)
    raw = np.round(forces * 1839.0).astype(int)
    with open(path, "w") as f:
        f.write("# board_id: 0123abcd\n# rate_hz: 80\n# calibration: nominal.toml\n")
        f.write("t_s,host_t_s,seq,raw_fl,raw_fr,raw_bl,raw_br,status,f_fl_n,f_fr_n,f_bl_n,"
                "f_br_n,fz_n,cop_x_mm,cop_y_mm\n")
        f.write("# tare: offsets from the first 0.5 s (board assumed empty)\n")
        for i in range(n):
            cop = "nan,nan" if np.isnan(x[i]) else f"{x[i]:.4f},{y[i]:.4f}"
            f.write(f"{t[i]:.6f},{t[i] + 0.01:.6f},{i % 65536},{raw[i, 0]},{raw[i, 1]},{raw[i, 2]},"
                    f"{raw[i, 3]},0,{forces[i, 0]:.3f},{forces[i, 1]:.3f},{forces[i, 2]:.3f},"
                    f"{forces[i, 3]:.3f},{fz_n[i]:.3f},{cop}\n")
        f.write("# frames_written: %d\n# measured_rate_hz: 80.000\n" % n)
    return t, on


def test_stream_file_default_filter(tmp_path, rng, capsys):
    p = tmp_path / "trial.csv"
    t, on = stream_csv(p, rng)
    code, out, err = run(capsys, "--json", p)
    assert code == 0, err
    obj = json.loads(out)
    for k in REQUIRED_KEYS:
        assert k in obj, k
    proc = obj["processing"]
    assert proc["preset"] == "default" and proc["lowpass"]["cutoff_hz"] == 10.0
    assert proc["lowpass"]["effective_order"] == 4
    assert proc["trimmed_s"][0] == pytest.approx(1.0, abs=0.03)
    assert proc["trimmed_s"][1] == pytest.approx(0.5, abs=0.03)
    assert obj["fs_hz"] == pytest.approx(80.0, rel=0.01)
    assert obj["n_samples"] == pytest.approx(on.sum(), abs=3)
    # the circling load (r = 8 mm, 0.5 Hz) is recovered through forces -> COP -> measures
    assert obj["mean_distance_mm"] == pytest.approx(8.0, rel=0.02)
    assert obj["mean_velocity_mm_s"] == pytest.approx(2 * np.pi * 8 * 0.5, rel=0.03)
    assert obj["cop_mean_ml_mm"] == pytest.approx(10.0, abs=0.5)
    assert obj["cop_mean_ap_mm"] == pytest.approx(-5.0, abs=0.5)
    raw = read_trace(p)
    assert raw.comments[0] == "board_id: 0123abcd" and raw.comments[-1].startswith("measured_rate")
    assert raw.fz_n is not None and np.isnan(raw.cop_x_mm[0])


def test_stream_file_with_filter_none_refuses_empty_board_samples(tmp_path, rng, capsys):
    p = tmp_path / "trial.csv"
    stream_csv(p, rng)
    code, out, err = run(capsys, "--filter", "none", p)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and str(p) in err and "nobody on the board" in err
    # the same trial without empty-board samples goes through untouched
    q = tmp_path / "on.csv"
    stream_csv(q, rng, empty_start_s=-1, empty_end_s=-1)
    code, out, err = run(capsys, "--filter", "none", "--json", q)
    assert code == 0, err
    obj = json.loads(out)
    assert obj["processing"]["lowpass"] is None and obj["processing"]["resample"] is None
    assert obj["n_samples"] == 960


def test_table_has_units_and_labels(tmp_path, capsys):
    t, x, y = circle()
    p = tmp_path / "c.csv"
    np.savetxt(p, np.column_stack([t, x, y]), delimiter=",", header="t_s,cop_x_mm,cop_y_mm", comments="")
    code, out, err = run(capsys, p)
    assert code == 0, err
    assert "Butterworth low-pass 10 Hz, order 2 forward-backward (effective 4" in out
    line = next(l for l in out.splitlines() if l.strip().startswith("mean_velocity_mm_s"))
    assert "mm/s" in line and "Mean velocity" in line
    assert float(line.split()[1]) == pytest.approx(2 * np.pi * 10 * 0.5, rel=0.01)


@pytest.mark.parametrize("content, message", [
    ("t_s,cop_x_mm,cop_y_mm\n0,1,2\n0.01,abc,2\n", r"line 3, column cop_x_mm \(2\): 'abc' is not a number"),
    ("t_s,cop_x_mm,cop_y_mm\n0,1,2\n,1,2\n", r"line 3, column t_s \(1\): is empty"),
    ("# meta\nt_s,cop_x_mm\n0,1\n", r"line 2: header lacks column\(s\) cop_y_mm"),
    ("t_s,cop_x_mm,cop_y_mm\n0,1,2\n0.01,1\n", r"line 3: 2 fields, the header \(line 1\) has 3"),
    ("t_s,cop_x_mm,cop_y_mm\n0,1,2\n0.02,1,2\n0.01,1,2\n", r"line 4: t_s = 0.01 s is not after"),
    ("# only a comment\n", "no header row"),
    ("t_s,cop_x_mm,cop_y_mm\n", "header but no data rows"),
])
def test_bad_files_give_one_line_with_file_and_line(tmp_path, capsys, content, message):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    code, out, err = run(capsys, p)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"Error: {p}")
    assert re.search(message, err), err


def test_missing_file_and_degenerate_trace(tmp_path, capsys):
    code, _, err = run(capsys, tmp_path / "nope.csv")
    assert code == 1 and "nope.csv: no such file" in err
    p = tmp_path / "flat.csv"
    p.write_text("t_s,cop_x_mm,cop_y_mm\n" + "".join(f"{i / 100},3,4\n" for i in range(300)))
    code, _, err = run(capsys, "--filter", "none", p)
    assert code == 1 and f"{p}: COP constant" in err and err.count("\n") == 1
    p.write_text("t_s,cop_x_mm,cop_y_mm\n0,1,2\n0.01,2,3\n")
    code, _, err = run(capsys, "--filter", "none", p)
    assert code == 1 and "too short: 2 sample" in err


def test_several_files_one_bad(tmp_path, rng, capsys):
    good = tmp_path / "good.csv"
    t, x, y = circle()
    np.savetxt(good, np.column_stack([t, x, y]), delimiter=",", header="t_s,cop_x_mm,cop_y_mm", comments="")
    bad = tmp_path / "bad.csv"
    bad.write_text("time,x,y\n0,1,2\n")
    code, out, err = run(capsys, "--json", good, bad, good)
    assert code == 1
    assert len(out.splitlines()) == 2
    assert f"Error: {bad} line 1: header lacks" in err and "1 of 3 files could not be analysed" in err


def test_single_leg_and_landing_options(tmp_path, rng, capsys):
    p = tmp_path / "sl.csv"
    stream_csv(p, rng)
    code, out, err = run(capsys, "--json", "--foot", "250,100,10,-5", "--body-weight-n", "700", p)
    assert code == 0, err
    obj = json.loads(out)
    assert obj["ttb_min_ml_s"] > 0 and obj["touchdowns"] == 0
    assert obj["ml_percent_foot_width_used"] == pytest.approx(16.0, rel=0.05)
    code, out, err = run(capsys, "--landing", "--body-weight-n", "700", p)
    assert code == 1 and "at least 500 Hz" in err
    code, out, err = run(capsys, "--foot", "250,100", p)
    assert code == 2 and "LENGTH,WIDTH,CENTRE_X,CENTRE_Y" in err
