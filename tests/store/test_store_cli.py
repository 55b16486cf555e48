"""rig sessions / history: ids, latest, baseline marking, MDC comparison in words."""
import pytest
from click.testing import CliRunner

from rig.cli import cli, main


def _run(root, *args):
    r = CliRunner().invoke(cli, [*args, "--data-dir", str(root)])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r.output


def test_sessions_lists_ids_and_trials(two_sessions):
    root, base, later = two_sessions
    out = _run(root, "sessions")
    assert base in out and later in out and "(baseline)" in out
    assert "7 valid/8" in out
    out = _run(root, "sessions", "--athlete", "nobody")
    assert "no sessions" in out
    out = _run(root, "sessions", "--trials", "--athlete", "A17")
    assert "single-leg eyes closed right" in out and "touch-down" in out and "(practice)" in out


def test_history_shows_legs_over_time_and_compares_with_the_baseline(two_sessions):
    root, base, later = two_sessions
    out = _run(root, "history", "A17")
    assert f"baseline {base} (first complete session)" in out
    assert "Single leg, eyes closed, firm" in out and "sd_ml_mm" in out
    cmp = out[out.index("Latest session"):]
    left = [ln for ln in cmp.splitlines() if " left " in ln and "sd_ml_mm" in ln]
    right = [ln for ln in cmp.splitlines() if " right " in ln and "sd_ml_mm" in ln]
    assert left and all("worse, beyond MDC" in ln for ln in left)
    assert right and all("within measurement error" in ln for ln in right)
    assert "MDC sources" in cmp and "no published MDC" in cmp
    out = _run(root, "history", "A17", "--set-baseline", "latest")
    assert f"baseline {later} (marked)" in out and "latest session is the baseline" in out
    out = _run(root, "history", "A17", "--set-baseline", "auto")
    assert f"baseline {base} (first complete session)" in out


def test_user_errors_are_one_line(two_sessions, capsys):
    root, _, _ = two_sessions
    for args in (["history", "nobody"], ["report", "nope", "--out", "x.html"], ["export", "zzz", "--out", "x.csv"]):
        with pytest.raises(SystemExit) as e:
            main([*args, "--data-dir", str(root)])
        assert e.value.code == 1
        err = capsys.readouterr().err
        assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1, err
