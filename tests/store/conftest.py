import pytest

from rig.store import Store
from tests.store.synth import record_session

PERSONAL = ("Jane", "Roe", "Quentin", "Zyx")  # planted in details and free-text meta


@pytest.fixture(scope="module")
def two_sessions(tmp_path_factory):
    """A data dir with two complete sessions of athlete A17: the baseline, then a session
    whose left leg sways 1.6 times more (the right leg unchanged)."""
    root = tmp_path_factory.mktemp("store")
    with Store.open(root) as store:
        details = {"name": "Jane Roe", "birth_year": 2001, "sport": "volleyball"}
        base = record_session(store, seed=0, details=details)
        later = record_session(store, seed=1, left_scale=1.6, details=details)
    return root, base, later
