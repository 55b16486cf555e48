"""`rig analyze --jobs`: the rig process analyses files beside its workers, output keeps the
order given, and Ctrl-C, SIGTERM or a killed rig process leave no process behind.

The subprocess tests find the processes of one rig command through /proc (Linux): it runs in
a session of its own, so every process it starts (fork server, resource tracker, workers)
carries the session id. A named pipe (FIFO) given as a trace file blocks whoever reads it:
that holds a process in place without depending on the host's speed."""
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np

import rig.cli.analyze_cmd as analyze_cmd
from tests.cli import rig
from tests.engine.signals import same_sway

GUARD_S = 120       # against a hang only: every wait below ends as soon as its condition holds


def run(capsys, *args):
    return rig(capsys, "analyze", *args)


def good_files(tmp_path, n):
    t, x, y = same_sway(100.0, seconds=30.0)
    paths = []
    for i in range(n):
        p = tmp_path / f"good{i}.csv"
        np.savetxt(p, np.column_stack([t, x + i, y - i]), delimiter=",", fmt="%.6f",
                   header="t_s,cop_x_mm,cop_y_mm", comments="")
        paths.append(p)
    return paths


def mixed_files(tmp_path):
    """Ten files, three of them user errors of different kinds (each its own error line)."""
    good = good_files(tmp_path, 7)
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,cop_x_mm,cop_y_mm\n0,1,2\n1,x,3\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    missing = tmp_path / "missing.csv"
    return [good[0], bad, good[1], good[2], missing, good[3], empty, good[4], good[5], good[6]]


def test_output_and_errors_keep_the_order_given_across_jobs(tmp_path, capsys):
    paths = mixed_files(tmp_path)
    args = ("--json", "--measures", "spectral", *paths)
    code1, out1, err1 = run(capsys, "--jobs", "1", *args)
    assert code1 == 1
    assert [json.loads(line)["path"] for line in out1.splitlines()] == [
        str(p) for p in paths if p.name.startswith("good")]
    assert err1.splitlines() == [f"Error: {tmp_path / 'bad.csv'} line 3, column cop_x_mm (2): 'x' is not a number",
                                 f"Error: {tmp_path / 'missing.csv'}: no such file",
                                 f"Error: {tmp_path / 'empty.csv'}: no header row (the file is empty or only comments)",
                                 "Error: 3 of 10 files could not be analysed"]
    for jobs in ("2", "3"):
        assert run(capsys, "--jobs", jobs, *args) == (1, out1, err1)


def test_the_rig_process_analyses_files_beside_its_workers(tmp_path, capsys, monkeypatch):
    paths = good_files(tmp_path, 8)
    args = ("--json", "--measures", "spectral", *paths)
    code1, out1, _ = run(capsys, "--jobs", "1", *args)
    here = []                     # the files this process analysed (workers import their own copy)
    real = analyze_cmd.analyse_file
    monkeypatch.setattr(analyze_cmd, "analyse_file", lambda path, *a: here.append(path) or real(path, *a))
    code2, out2, _ = run(capsys, "--jobs", "2", *args)
    assert code1 == code2 == 0 and out2 == out1
    assert here[0] == str(paths[0])                 # the first file is always its own
    assert len(set(here)) == len(here) and set(here) <= {str(p) for p in paths}
    assert multiprocessing.active_children() == []  # its workers have ended


def test_one_job_or_one_file_starts_no_process(tmp_path, capsys, monkeypatch):
    def refuse(method=None):
        raise AssertionError(f"a {method} context was asked for")
    monkeypatch.setattr(multiprocessing, "get_context", refuse)
    paths = good_files(tmp_path, 2)
    code, out, _ = run(capsys, "--json", "--measures", "spectral", "--jobs", "1", *paths)
    assert code == 0 and len(out.splitlines()) == 2
    code, out, _ = run(capsys, "--json", "--measures", "spectral", "--jobs", "2", paths[0])
    assert code == 0 and len(out.splitlines()) == 1


def _session(sid):
    """{pid: parent pid} of the live processes of session ``sid`` (zombies are not alive)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:                              # ended meanwhile
            continue
        state, ppid, _pgrp, session = stat[stat.rindex(")") + 2:].split()[:4]
        if int(session) == sid and state not in "ZX":
            procs[int(d)] = int(ppid)
    return procs


def _workers(rig_pid):
    """The grandchildren of the rig process: the workers forked by its fork server."""
    procs = _session(rig_pid)
    return [p for p, parent in procs.items() if procs.get(parent) == rig_pid]


def _wait_for(condition):
    deadline = time.monotonic() + GUARD_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def _start_rig(*args):
    return subprocess.Popen([sys.executable, "-m", "rig", "analyze", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _fifos(tmp_path, n):
    paths = [tmp_path / f"fifo{i}.csv" for i in range(n)]
    for p in paths:
        os.mkfifo(p)
    return paths


def test_nothing_is_left_running_after_a_parallel_batch(tmp_path, capsys):
    paths = mixed_files(tmp_path)
    args = ("--json", "--measures", "spectral", *paths)
    p = _start_rig("--jobs", "3", *args)
    out, err = p.communicate(timeout=GUARD_S)
    assert (p.returncode, out, err) == run(capsys, "--jobs", "1", *args)
    assert _wait_for(lambda: not _session(p.pid)), _session(p.pid)


def _stop(p, how):
    if how == "Ctrl-C at the terminal":              # the terminal signals the whole group
        os.killpg(p.pid, signal.SIGINT)
    else:
        p.send_signal(signal.SIGINT if how == "SIGINT to rig" else signal.SIGTERM)


def test_ctrl_c_or_sigterm_stops_a_parallel_batch_cleanly(tmp_path):
    # every process blocked on a FIFO: rig on the first file, each worker on one of the next
    for how in ("Ctrl-C at the terminal", "SIGINT to rig", "SIGTERM to rig"):
        d = tmp_path / how.replace(" ", "_")
        d.mkdir()
        p = _start_rig("--jobs", "3", *_fifos(d, 3), *good_files(d, 2))
        try:
            assert _wait_for(lambda: len(_workers(p.pid)) >= 2), _session(p.pid)
            _stop(p, how)
            out, err = p.communicate(timeout=GUARD_S)
        finally:
            p.kill()
        assert p.returncode == 130, (how, err)
        assert err.strip() == "Aborted." and out == "", (how, err)   # one line: no traceback
        assert _wait_for(lambda: not _session(p.pid)), (how, _session(p.pid))


def test_workers_stop_when_the_rig_process_is_killed(tmp_path):
    # rig itself blocked on the first file (a FIFO); the workers analyse the rest, which rig
    # will never print: they stop at their next result instead of finishing or waiting forever
    p = _start_rig("--jobs", "3", *_fifos(tmp_path, 1), *good_files(tmp_path, 30))
    try:
        assert _wait_for(lambda: len(_workers(p.pid)) >= 2), _session(p.pid)
    finally:
        p.kill()
        p.wait(timeout=GUARD_S)       # not its output: a process left behind would hold it open
    assert _wait_for(lambda: not _session(p.pid)), _session(p.pid)
