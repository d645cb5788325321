"""app.py under Streamlit's AppTest: session state set, run, switched to a page, no exception."""
from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest

from core.config import REPO_ROOT


def open_app(page: str | None = None, *, timeout: float = 60, **state: Any) -> AppTest:
    """app.py run once with `state` in its session state, then switched to app_pages/<page>.py."""
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=timeout)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, at.exception
    return at
