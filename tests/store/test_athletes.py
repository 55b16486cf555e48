"""Athletes: optional details a clinic needs, validated, searchable, exported, anonymised away."""
import json

import pytest
from click.testing import CliRunner

from rig.cli import cli
from rig.errors import RigError
from rig.session.athletes import check_detail, matches
from rig.store import Store
from tests.store.synth import record_session

DETAILS = ["--name", "Anna Müller", "--birth-year", "2001", "--sex", "female", "--sport", "volleyball",
           "--dominant-leg", "right", "--foot-length-mm", "245,5", "--foot-width-mm", "96",
           "--height-cm", "172", "--body-mass-kg", "64,5"]


def test_details_are_checked_in_plain_words():
    assert check_detail("foot_length_mm", "245,5") == 245.5
    assert check_detail("name", "  Łucja Ørsted ") == "Łucja Ørsted"
    assert check_detail("dominant_leg", "Left") == "left"
    for key, bad, words in (("birth_year", "1850", "between 1900 and"), ("height_cm", "17,2", "between 100 and 230 cm"),
                            ("sex", "x", "one of female, male, other"), ("name", "a\x00b", "printable"),
                            ("shoe", "42", "unknown athlete detail")):
        with pytest.raises(RigError, match=words):
            check_detail(key, bad)
    assert matches("A17", {"name": "Anna Müller"}, "MÜL") and not matches("A17", {"name": "Anna"}, "mül")


def test_rig_athletes_records_searches_exports_and_anonymises(tmp_path):
    data = tmp_path / "d"
    with Store.open(data) as st:
        sid = record_session(st, athlete="Müller-1", seconds=2.0, trials_per_condition=1)
        st.ensure_athlete("B2")
    run = lambda *a: CliRunner().invoke(cli, ["athletes", *a, "--data-dir", str(data)])
    r = run("Müller-1", *DETAILS)
    assert r.exit_code == 0, r.output
    assert "name Anna Müller" in r.output and "foot length 245.5 mm" in r.output and "body mass 64.5 kg" in r.output
    # search: by a detail (any case), by the code; the other athlete is not listed
    for q in ("volley", "anna", "müller-1"):
        out = run(q).output
        assert "Müller-1" in out and "B2" not in out, q
    assert "B2" in run().output and "no athlete matching 'judo'" in run("judo").output
    r = run("B2", "--birth-year", "3000")
    assert r.exit_code == 1 and "birth year: between 1900 and" in str(r.exception)
    # exported with the session; --anonymize leaves none of them
    out, anon = tmp_path / "s.json", tmp_path / "a.json"
    for path, extra in ((out, []), (anon, ["--anonymize"])):
        r = CliRunner().invoke(cli, ["export", sid, "--out", str(path), "--data-dir", str(data), *extra])
        assert r.exit_code == 0, r.output
    det = json.loads(out.read_text())["athlete_details"]
    assert det["name"] == "Anna Müller" and det["dominant_leg"] == "right" and det["height_cm"] == 172.0
    text = anon.read_text()
    assert json.loads(text)["athlete_details"] == {}
    for v in ("Anna", "M\\u00fcller\"", "volleyball", "female", "245.5", "64.5"):
        assert v not in text.replace("Müller-1", "").replace("M\\u00fcller-1", ""), v
