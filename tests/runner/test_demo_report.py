"""The demo's PDF: the result, both sides and the stabilograms on page 1 (rendered and checked)."""
import shutil
import subprocess

import numpy as np
from matplotlib.image import imread

from tests.cli import rig


def test_demo_pdf_page_one(capsys, tmp_path, demo_session):
    assert shutil.which("pdftoppm") and shutil.which("pdftotext")
    code, out, err, data = demo_session
    assert code == 0, err
    data = str(data)
    pdf = tmp_path / "demo.pdf"
    code, out, err = rig(capsys, "report", "latest", "--out", str(pdf), "--data-dir", data)
    assert code == 0, err
    p1 = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                        check=True).stdout
    for needle in ("POSSIBLE CHRONIC ANKLE INSTABILITY, LEFT", "Chronic ankle instability screen", "Left and right",
                   "Left", "Right", "Asymmetry (%)", "TTB mean of minima ML (s)", "Single leg, eyes closed",
                   "Stabilograms", "not a diagnosis"):
        assert needle in p1, needle
    assert "ttb_mean_min_ml_s" not in p1 and "body_mass_kg" not in p1
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    page = imread(next(tmp_path.glob("p-*.png")))[..., :3]
    lower = page[page.shape[0] // 2:]           # the figure sits in the lower half of page 1

    def coloured(img, rgb):
        return (np.abs(img - np.array(rgb) / 255.0).max(axis=2) < 0.2).sum()
    assert coloured(lower, (31, 119, 180)) > 250 and coloured(lower, (214, 39, 40)) > 250
