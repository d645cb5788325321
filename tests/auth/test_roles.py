"""Roles enforced in the core services: a visitor of a hosted instance cannot change a label or
start a job by calling core directly; an annotator can label but cannot train, import or export."""
from __future__ import annotations

import pytest

from core import auth
from core.auth import ANONYMOUS, LOCAL_OPERATOR, AccessDenied, Identity, Role, require
from core.jobs import store as jobs
from core.store.db import read_session, write_session
from core.store.labels import edit_label, label_history, undo_last
from core.store.models import Annotation, Run, Sample
from core.store.users import add_user, sign_in
from tests.auth.conftest import PASSWORDS

ANA = Identity("ana", Role.ANNOTATOR, authenticated=True)
ROOT = Identity("root", Role.ADMIN, authenticated=True)
CONFIG = {"dataset": "demo", "backbone": "mini_xception", "epochs": 1}


def _relabel(identity, annotator="typed name"):
    with write_session() as s, s.begin():
        head = s.get(Sample, 1).cur_annotation_id
        return edit_label(s, 1, base_annotation_id=head, annotator=annotator, emotion="Sad", identity=identity)


def _count(model) -> int:
    with read_session() as s:
        return s.query(model).count()


@pytest.mark.parametrize("who", [None, ANONYMOUS, Identity("vic", Role.VIEWER, authenticated=True)])
def test_a_visitor_cannot_change_labels_or_start_jobs(hosted, who):
    before = (_count(Annotation), _count(Run))
    with pytest.raises(AccessDenied, match="annotator role"):
        _relabel(who)
    with pytest.raises(AccessDenied):
        with write_session() as s, s.begin():
            undo_last(s, 1, base_annotation_id=None, annotator="x", identity=who)
    for start in (lambda: jobs.create_run(CONFIG, identity=who), lambda: jobs.resume(1, identity=who),
                  lambda: jobs.cancel(1, identity=who),
                  lambda: jobs.submit_job("evaluate", run_id=None, args={}, identity=who)):
        with pytest.raises(AccessDenied, match="admin role"):
            start()
    assert (_count(Annotation), _count(Run)) == before


def test_an_annotator_labels_as_itself_but_cannot_train_import_or_export(hosted, tmp_path):
    ann = _relabel(ANA, annotator="someone else")  # the signed-in identity is recorded
    with read_session() as s:
        assert label_history(s, 1)[0].annotator == "ana" and ann.id
    with pytest.raises(AccessDenied, match="admin role"):
        jobs.create_run(CONFIG, identity=ANA)
    from core.export_model import export_in_subprocess
    from core.ingest import import_path

    with pytest.raises(AccessDenied):
        import_path("csv", tmp_path / "x.csv", dataset="demo", identity=ANA)
    with pytest.raises(AccessDenied):
        export_in_subprocess(tmp_path / "x.pt", identity=ANA)
    run_id = jobs.create_run(CONFIG, identity=ROOT)
    assert jobs.cancel(run_id, identity=ROOT) is not None


def test_local_use_is_friction_free(env):
    """AFFECTLAB_AUTH unset: no identity needed, the local operator is an admin."""
    auth.serve_visitors()
    assert auth.default_identity() == LOCAL_OPERATOR
    from core.ingest import import_path
    from tests.helpers import write_affectnet_csv

    import_path("csv", write_affectnet_csv(env / "in", 4), dataset="demo")
    assert _relabel(None, annotator="me").id and jobs.create_run(CONFIG) > 0


def test_accounts_store_only_argon2_hashes(hosted):
    with read_session() as s:
        from core.store.models import User

        hashes = [u.password_hash for u in s.query(User)]
    assert all(h.startswith("$argon2id$") for h in hashes) and not any(
        p in h for p in PASSWORDS.values() for h in hashes)
    with write_session() as s, s.begin():
        assert sign_in(s, "ana", PASSWORDS["ana"]) == ANA
        assert sign_in(s, "ana", "wrong") is None and sign_in(s, "nobody", "x" * 9) is None
    with pytest.raises(AccessDenied):
        with write_session() as s, s.begin():
            add_user(s, "eve", "admin", "long enough pw", identity=ANA)


def test_tokens_from_the_environment(monkeypatch):
    monkeypatch.setenv("AFFECTLAB_TOKENS", "bo:annotator:s3cr3t-t0ken, al:admin:another-token")
    assert auth.token_identity("s3cr3t-t0ken") == Identity("bo", Role.ANNOTATOR, authenticated=True)
    assert auth.token_identity("another-token").role is Role.ADMIN
    assert auth.token_identity("guess") is None and auth.token_identity("") is None
    assert require(None, Role.VIEWER, "browsing") == auth.default_identity()
