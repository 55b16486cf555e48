"""`rig info` shows each chip's measured rate and the board's health counters."""
import re
import subprocess
import sys

import pytest

from rig.sim.board import SimBoardModel

RIG = [sys.executable, "-m", "rig"]


def run(*args):
    return subprocess.run(RIG + list(args), capture_output=True, text=True, timeout=120)


def test_info_shows_chip_rates_skew_and_health_counters():
    p = run("info", "--port", "sim://?seed=1&speed=20&person=0")
    assert p.returncode == 0, p.stderr
    rates = [float(v) for v in re.findall(r"(\d+\.\d+) Hz", p.stdout.split("chip rates:")[1].splitlines()[0])]
    assert rates == pytest.approx(list(1 / SimBoardModel(seed=1).chip_period_s), abs=0.01)
    assert "board counters:   frames dropped 0, UART receive errors 0" in p.stdout
    assert re.search(r"cell skew: +newest-oldest cell in a frame mean \d+\.\d ms", p.stdout)
    assert "RATE pin" not in p.stdout


def test_info_warns_when_the_rate_pin_is_low():
    p = run("info", "--port", "sim://?seed=1&speed=20&person=0&rate_pin=low", "--measure-s", "1.5")
    assert p.returncode == 0, p.stderr
    assert "is the HX711 modules' RATE pin tied low (10 SPS)?" in p.stdout
