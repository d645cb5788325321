"""Access control, generated (issue 16, item 9): every pairing of who calls (hosted visitor
without identity, anonymous, viewer, annotator, admin, a token) with a core service that changes
labels, starts jobs, imports or manages accounts is allowed exactly when the role suffices; a
refusal is AccessDenied and changes nothing."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import auth
from core.auth import ANONYMOUS, LOCAL_OPERATOR, AccessDenied, Identity, Role
from core.ingest import import_path
from core.jobs import store as jobs
from core.store.db import dispose_all, read_session, write_session
from core.store.labels import edit_label, undo_last
from core.store.models import Annotation, Job, Run, Sample, User
from core.store.users import add_user
from tests.conftest import ASSETS
from tests.helpers import write_affectnet_csv
from tests.reliability.corpus import REPORT

HYP = settings(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck),
               max_examples=150)
CONFIG = {"dataset": "acl", "backbone": "mini_xception", "epochs": 1}
WHO = {"hosted visitor (no identity)": None, "anonymous": ANONYMOUS,
       "viewer account": Identity("vic", Role.VIEWER, True), "annotator account": Identity("ana", Role.ANNOTATOR, True),
       "admin account": Identity("root", Role.ADMIN, True), "annotator token": Identity("tok", Role.ANNOTATOR, True)}


def _relabel(who):
    with write_session() as s, s.begin():
        edit_label(s, 1, base_annotation_id=s.get(Sample, 1).cur_annotation_id, annotator="typed",
                   emotion="Sad", identity=who)


def _undo(who):
    with write_session() as s, s.begin():
        undo_last(s, 1, base_annotation_id=s.get(Sample, 1).cur_annotation_id, annotator="typed", identity=who)


def _account(who):
    with write_session() as s, s.begin():
        add_user(s, "new", "viewer", "long password", identity=who, replace=True)


ACTIONS = {  # name -> (call, role needed)
    "relabel": (_relabel, Role.ANNOTATOR), "undo": (_undo, Role.ANNOTATOR),
    "create run": (lambda who: jobs.create_run(CONFIG, identity=who), Role.ADMIN),
    "submit job": (lambda who: jobs.submit_job("evaluate", args={}, identity=who), Role.ADMIN),
    "cancel": (lambda who: jobs.cancel(1, identity=who), Role.ADMIN),
    "resume": (lambda who: jobs.resume(1, identity=who), Role.ADMIN),
    "import": (lambda who: import_path("csv", "/nonexistent.csv", dataset="acl", identity=who), Role.ADMIN),
    "accounts": (_account, Role.ADMIN),
}


@pytest.fixture(scope="module")
def hosted(tmp_path_factory):
    root = tmp_path_factory.mktemp("acl")
    mp = pytest.MonkeyPatch()
    mp.setenv("AFFECTLAB_DATA_DIR", str(root / "data"))
    mp.setenv("AFFECTLAB_DB_URL", f"sqlite:///{root / 'acl.db'}")
    mp.setenv("AFFECTLAB_ASSETS_DIR", str(ASSETS))
    import_path("csv", write_affectnet_csv(root / "in", 6), dataset="acl")
    mp.setenv("AFFECTLAB_AUTH", "on")
    auth.serve_visitors()
    yield root
    mp.undo()
    auth.serve_visitors()
    dispose_all()


def _counts() -> tuple[int, ...]:
    with read_session() as s:
        return tuple(s.query(m).count() for m in (Annotation, Run, Job, User))


@HYP
@given(st.sampled_from(sorted(WHO)), st.sampled_from(sorted(ACTIONS)))
def test_every_role_and_service_pairing(hosted, who_name, action):
    who, (call, needed) = WHO[who_name], ACTIONS[action]
    role = (who or auth.default_identity()).role
    before = _counts()
    try:
        call(who)
        denied = False
    except AccessDenied:
        denied = True
    except (LookupError, ValueError, FileNotFoundError):  # allowed, then refused for a domain reason
        denied = False
    right = denied == (role < needed) and (not denied or _counts() == before)
    REPORT.record("access control: role x service", clear_error=right, crash=not right)
    assert right, (who_name, action, denied, before, _counts())


def test_the_operator_default_outside_the_app(hosted, monkeypatch):
    monkeypatch.delenv("AFFECTLAB_AUTH")
    auth.serve_visitors()
    try:
        assert auth.default_identity() == LOCAL_OPERATOR
        _relabel(None)
    finally:
        monkeypatch.setenv("AFFECTLAB_AUTH", "on")
        auth.serve_visitors()
