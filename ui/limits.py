"""The analysis slot a page holds while it runs a model on a visitor's upload (core.limits)."""
from __future__ import annotations

from contextlib import AbstractContextManager

from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.limits import ANALYSES
from ui.auth import identity


def session_key() -> str | None:
    """This browser session's id: the budget key of a visitor who is not signed in."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else None


def analysis_slot() -> AbstractContextManager[None]:
    """One of this visitor's analyses; raises core.limits.LimitExceeded (with the wait) if over."""
    return ANALYSES.analysis(identity(), session_key())
