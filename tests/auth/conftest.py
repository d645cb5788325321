"""A hosted instance (AFFECTLAB_AUTH=on) over a seeded store, with one account per role."""
from __future__ import annotations

import pytest

from core import auth
from core.auth import LOCAL_OPERATOR
from core.ingest import import_path
from core.splits import split_dataset
from core.store.db import write_session
from core.store.users import add_user
from tests.helpers import write_affectnet_csv

PASSWORDS = {"ana": "annotator pw 1", "root": "admin pw 12", "vic": "viewer pw 1"}
ROLES = {"ana": "annotator", "root": "admin", "vic": "viewer"}


@pytest.fixture
def hosted(env, monkeypatch):
    """Dataset "demo" (24 labelled crops, split 70/15/15), accounts ana/root/vic, AFFECTLAB_AUTH=on."""
    import_path("csv", write_affectnet_csv(env / "in", 24, subjects=8), dataset="demo")
    with write_session() as s, s.begin():
        split_dataset(s, 1, "70/15/15")
        for name, role in ROLES.items():
            add_user(s, name, role, PASSWORDS[name], identity=LOCAL_OPERATOR)
    monkeypatch.setenv("AFFECTLAB_AUTH", "on")
    auth.serve_visitors()  # what the web app does: a call without identity is a visitor's
    yield env
    monkeypatch.delenv("AFFECTLAB_AUTH")
    auth.serve_visitors()  # back to the local operator for the next tests of this process
