"""The analysis slot a page holds while it runs a model on a visitor's upload (core.limits)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import streamlit as st
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


@contextmanager
def upload_analysis(file_id: str) -> Iterator[None]:
    """analysis_slot() for an uploaded file (a photo, a snapshot), charged only the first time it is
    analysed in this browser session: a rerun of the page (another widget changed) is not a new analysis."""
    charged = st.session_state.setdefault("charged_uploads", set())
    with analysis_slot() if file_id not in charged else nullcontext():
        yield
    charged.add(file_id)
