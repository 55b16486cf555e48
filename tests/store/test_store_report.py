"""Reports: HTML self-contained with figures; PDF whose pages render with visible plots."""
import html
import re
import shutil
import subprocess

import numpy as np
from click.testing import CliRunner
from matplotlib.image import imread

from rig.cli import cli


def _report(root, session, out):
    r = CliRunner().invoke(cli, ["report", session, "--out", str(out), "--data-dir", str(root)])
    assert r.exit_code == 0, r.output + repr(r.exception)


def test_html_report_is_self_contained_and_says_what_a_physician_needs(two_sessions, tmp_path):
    root, base, later = two_sessions
    out = tmp_path / "report.html"
    _report(root, later, out)
    page = out.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3  # page 1's overview, then one stabilogram figure per task (eyes open, closed)
    assert not re.search(r'(src|href)="(https?:|file:|/)', page)  # nothing outside the file
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)))
    for needle in ("athlete A17", later, "cai-screen", "sim-0001", "firmware 1.0.0",
                   "Noise floor", "dead weight 20 kg", "COP velocity 1.2 mm/s", "NOMINAL", "Left (n=2)", "Right (n=1)", "Asymmetry",
                   "Self-reported instability (left)", "Wright 2014", "Comparison with the athlete",
                   base, "worse, beyond MDC", "within measurement error", "BMC Pediatr",
                   "DPSI", "80 Hz", "landing kinetics", "not a diagnosis", "touch-down at 3.2 s"):
        assert needle in text, needle


def test_baseline_session_report_says_it_is_the_baseline(two_sessions, tmp_path):
    root, base, _ = two_sessions
    _report(root, base, tmp_path / "b.html")
    assert "This session is the athlete's baseline" in html.unescape((tmp_path / "b.html").read_text())


def test_pdf_report_renders_readable_pages_with_plots(two_sessions, tmp_path):
    assert shutil.which("pdftoppm"), "pdftoppm not found: install poppler-utils (.ci/run does)"
    root, _, later = two_sessions
    pdf = tmp_path / "report.pdf"
    _report(root, later, pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-png", "-r", "100", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    first = imread(pages[0])[..., :3]
    ink = (first.mean(axis=2) < 0.6).mean()  # dark (text) pixels on page 1
    assert ink > 0.01, f"page 1 nearly blank ({ink:.4f} dark)"
    # the stabilograms: pixels in matplotlib's blue and red trace colours on some page
    def coloured(img, rgb):
        return (np.abs(img - np.array(rgb) / 255.0).max(axis=2) < 0.2).sum()
    imgs = [imread(p)[..., :3] for p in pages]
    assert max(min(coloured(i, (31, 119, 180)), coloured(i, (214, 39, 40))) for i in imgs) > 250
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Balance assessment: athlete A17" in text and "DPSI" in text
    # page 1, read in a minute: the result, both sides with the asymmetry, the stabilograms, limits
    p1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                        check=True).stdout
    for needle in ("Result", "Self-reported instability (left)", "Left and right", "Left", "Right",
                   "Asymmetry (%)", "Single leg, eyes open", "Single leg, eyes closed",
                   "Stabilograms", "not a diagnosis"):
        assert needle in p1, needle
    assert coloured(first, (31, 119, 180)) > 250 and coloured(first, (214, 39, 40)) > 250   # L and R traces
    assert p1.index("Result") < p1.index("Left and right")
    # human labels everywhere: no measure key, no summary key on any page
    from rig.engine.sway import MEASURES

    leaked = [k for k in list(MEASURES) + ["body_mass_kg", "instrumented_side"] if re.search(rf"\b{k}\b", text)]
    assert not leaked, leaked


def test_report_refuses_an_unknown_suffix_in_one_line(two_sessions, tmp_path):
    root, base, _ = two_sessions
    r = CliRunner().invoke(cli, ["report", base, "--out", str(tmp_path / "r.docx"), "--data-dir", str(root)])
    assert r.exit_code != 0 and ".html or .pdf" in str(r.exception)


def test_athlete_report_over_time_and_history_plot(two_sessions, tmp_path):
    root, base, later = two_sessions
    pdf = tmp_path / "a17.pdf"
    _report(root, "A17", pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for needle in ("Balance over time: athlete A17", "Progress against the baseline", "Single leg, eyes closed",
                   "minimal detectable change", base, later, "Latest session against the baseline"):
        assert needle in text, needle
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "a")], check=True)
    page = imread(next(tmp_path.glob("a-*.png")))[..., :3]

    def coloured(img, rgb, tol=0.2):
        return (np.abs(img - np.array(rgb) / 255.0).max(axis=2) < tol).sum()
    # a line per leg (matplotlib blue, red) over the baseline's MDC band (the same colours, pale)
    assert coloured(page, (31, 119, 180)) > 150 and coloured(page, (214, 39, 40)) > 150
    pale = (np.abs(page - np.array([0.89, 0.93, 0.96])).max(axis=2) < 0.03).sum()
    assert pale > 1000
    png = tmp_path / "h.png"
    r = CliRunner().invoke(cli, ["history", "A17", "--plot", str(png), "--data-dir", str(root)])
    assert r.exit_code == 0, r.output
    img = imread(png)[..., :3]
    assert img.shape[0] > 300 and coloured(img, (31, 119, 180)) > 150
