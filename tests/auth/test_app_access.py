"""Through the app (AppTest) on a hosted instance: an anonymous visitor's save or launch is refused
by core even when replayed with forged state; signing in as an annotator lets labels through,
recorded under the account's name, and still refuses training."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.store.db import read_session
from core.store.labels import label_history
from core.store.models import Annotation, Run
from tests.apptest import open_app
from tests.auth.conftest import PASSWORDS


def _app(page: str, **state) -> AppTest:
    return open_app(page, demo_ready=True, **state)


def _count(model) -> int:
    with read_session() as s:
        return s.query(model).count()


def _sign_in(at: AppTest, name: str) -> AppTest:
    at.text_input(key="sign_in_user").input(name)
    at.text_input(key="sign_in_secret").input(PASSWORDS[name])
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    assert not at.exception, at.exception
    return at


def _save_first(at: AppTest) -> AppTest:
    key = next(b.key for b in at.button if b.key and b.key.endswith("-b0")).rsplit("-", 1)[0]
    at.button(key=f"{key}-b2").click().run()  # Sad
    at.button(key="save").click().run()  # a disabled button, clicked anyway: a replayed request
    return at


def _launch(at: AppTest) -> AppTest:
    at.number_input(key="t_epochs").set_value(1)
    at.selectbox(key="t_init").set_value("scratch")
    at.button[[b.label for b in at.button].index("Launch")].click().run()
    return at


def test_anonymous_visitor_cannot_relabel_even_with_forged_state(hosted):
    at = _app("relabel", relabel_queue=[1, 2])
    assert any(b.label == "Sign in" for b in at.button)
    at.session_state["annotator"] = "mallory"  # what a forged session would carry
    before = _count(Annotation)
    _save_first(at)
    assert _count(Annotation) == before
    shown = [e.value for kind in (at.error, at.warning, at.toast, at.info) for e in kind]
    assert not at.success and any("annotator role" in m for m in shown), shown


def test_anonymous_visitor_cannot_start_a_training_run(hosted):
    at = _app("train")
    _launch(at)
    assert _count(Run) == 0
    assert any("admin role" in e.value for e in at.error), [e.value for e in at.error]


def test_signed_in_annotator_labels_under_its_account_but_cannot_train(hosted):
    at = _sign_in(_app("relabel", relabel_queue=[1, 2]), "ana")
    assert any("Signed in as" in c.value and "ana" in c.value for c in at.caption)
    _save_first(at)
    assert at.success and at.success[0].value.startswith("Saved sample #1"), [e.value for e in at.error]
    with read_session() as s:
        assert label_history(s, 1)[0].annotator == "ana"
    at.switch_page("app_pages/train.py").run()
    _launch(at)
    assert _count(Run) == 0 and any("admin role" in e.value for e in at.error)


@pytest.mark.parametrize("name", ["root"])
def test_signed_in_admin_can_queue_a_run(hosted, name):
    at = _sign_in(_app("train"), name)
    _launch(at)
    assert _count(Run) == 1 and not any("admin role" in e.value for e in at.error)


def test_wrong_password_is_refused(hosted):
    at = _app("overview")
    at.text_input(key="sign_in_user").input("ana")
    at.text_input(key="sign_in_secret").input("not the password")
    at.button[[b.label for b in at.button].index("Sign in")].click().run()
    assert any("wrong password" in e.value for e in at.error)
    assert "identity" not in at.session_state
