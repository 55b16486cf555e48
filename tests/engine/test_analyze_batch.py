"""`rig analyze` on batches: --jobs, --measures, and measures comparable across board rates."""
import json

import numpy as np
import pytest

from rig.cli.analyze_cmd import DEFAULT_SETS, SETS, parse_measures
from rig.engine.sway import DEFAULT_MEASURE_SETS, MEASURE_SETS
from tests.cli import rig
from tests.engine.signals import PDS_DIR, PDS_TRIALS, same_sway


def run(capsys, *args):
    return rig(capsys, "analyze", *args)


def write_csv(path, t, x, y):
    np.savetxt(path, np.column_stack([t, x, y]), delimiter=",", fmt="%.9f",
               header="t_s,cop_x_mm,cop_y_mm", comments="")


def test_same_sway_at_80_hz_100_hz_and_1_khz_through_rig_analyze(tmp_path, capsys):
    paths = []
    for fs in (80.0, 100.0, 1000.0):
        p = tmp_path / f"sway_{fs:g}hz.csv"
        write_csv(p, *same_sway(fs))
        paths.append(p)
    code, out, err = run(capsys, "--json", "--measures", "dfa,entropy", "--jobs", "1", *paths)
    assert code == 0, err
    r80, lo, hi = (json.loads(line) for line in out.splitlines())
    assert r80["fs_hz"] == 80.0 and lo["fs_hz"] == 100.0 and hi["fs_hz"] == 1000.0
    for low in (r80, lo):
        for ax in ("ml", "ap"):
            assert low[f"sample_entropy_velocity_{ax}_20hz"] == pytest.approx(
                hi[f"sample_entropy_velocity_{ax}_20hz"], rel=0.10)
            assert abs(low[f"dfa_alpha_velocity_{ax}_20hz"] - hi[f"dfa_alpha_velocity_{ax}_20hz"]) < 0.05
    assert lo["settings"]["nonlinear_timebase"]["rate_hz"] == 20.0
    assert lo["measure_sets"] == ["dfa", "entropy"] and "f50_ml_hz" not in lo


def test_jobs_give_the_same_output_in_the_same_order(capsys):
    paths = [PDS_DIR / f"{t}grf.txt" for t in PDS_TRIALS[:4]]
    code1, out1, _ = run(capsys, "--json", "--jobs", "1", "--measures=-entropy", *paths)
    code2, out2, _ = run(capsys, "--json", "--jobs", "2", "--measures=-entropy", *paths)
    assert code1 == code2 == 0
    assert out1 == out2 and len(out1.splitlines()) == 4
    assert [json.loads(line)["path"] for line in out2.splitlines()] == [str(p) for p in paths]


def test_a_bad_file_in_a_parallel_batch_is_one_line_and_the_rest_is_kept(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,cop_x_mm,cop_y_mm\n0,1,2\n1,x,3\n")
    good = PDS_DIR / f"{PDS_TRIALS[0]}grf.txt"
    code, out, err = run(capsys, "--json", "--jobs", "2", "--measures", "spectral", good, bad, good)
    assert code == 1
    assert len(out.splitlines()) == 2
    assert "bad.csv line 3, column cop_x_mm (2): 'x' is not a number" in err
    assert "1 of 3 files could not be analysed" in err and "Traceback" not in err


def test_measure_set_option():
    assert SETS == MEASURE_SETS and DEFAULT_SETS == DEFAULT_MEASURE_SETS
    assert parse_measures(None) == DEFAULT_SETS and parse_measures("default") == DEFAULT_SETS
    assert parse_measures("all") == SETS
    assert DEFAULT_SETS == ("spectral", "diffusion", "dfa", "entropy")
    assert parse_measures("+board-entropy,+board-dfa") == SETS
    assert parse_measures("+board-entropy") == DEFAULT_SETS + ("board-entropy",)
    assert parse_measures("+board-entropy,-entropy") == ("spectral", "diffusion", "dfa", "board-entropy")
    assert parse_measures("+board-dfa") == DEFAULT_SETS + ("board-dfa",)
    assert parse_measures("-board-entropy") == DEFAULT_SETS
    assert parse_measures("no-entropy,-diffusion") == ("spectral", "dfa")
    assert parse_measures("entropy,spectral") == ("spectral", "entropy")
    import click
    with pytest.raises(click.BadParameter, match="unknown measure set 'entropi'"):
        parse_measures("entropi")
    with pytest.raises(click.BadParameter, match="not both"):
        parse_measures("spectral,-entropy")


def test_dev_zero_is_refused_in_one_line(capsys):
    code, out, err = run(capsys, "/dev/zero")
    assert code == 1 and err.strip() == "Error: /dev/zero: not a text file (NUL byte at byte 0)"


def test_jobs_from_the_rig_command_use_a_fork_server(capsys):
    # never a fork of the rig process itself: its BLAS threads can hold a lock at the fork
    import subprocess
    import sys
    paths = [str(PDS_DIR / f"{t}grf.txt") for t in PDS_TRIALS[:3]]
    code1, out1, _ = run(capsys, "--json", "--jobs", "1", "--measures=spectral", *paths)
    script = ("import multiprocessing, sys; from rig.cli import main\n"
              "real = multiprocessing.get_context\n"
              "def spy(method=None):\n"
              "    print('start method', method, file=sys.stderr)\n"
              "    return real(method)\n"
              "multiprocessing.get_context = spy\n"
              "main(sys.argv[1:])\n")
    p = subprocess.run([sys.executable, "-c", script, "analyze", "--json", "--jobs", "2",
                        "--measures=spectral", *paths], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "start method forkserver" in p.stderr and "start method fork\n" not in p.stderr
    assert p.stdout == out1


def test_jobs_in_a_process_with_other_threads_use_a_fork_server(capsys, monkeypatch):
    # forking a process with other threads can copy a held lock into a worker: never done
    import multiprocessing
    import threading
    methods = []
    real = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda m=None: methods.append(m) or real(m))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        paths = [PDS_DIR / f"{t}grf.txt" for t in PDS_TRIALS[:3]]
        code2, out2, _ = run(capsys, "--json", "--jobs", "2", "--measures=spectral", *paths)
    finally:
        stop.set()
        other.join()
    code1, out1, _ = run(capsys, "--json", "--jobs", "1", "--measures=spectral", *paths)
    assert code1 == code2 == 0 and out1 == out2
    assert methods == ["forkserver"]
