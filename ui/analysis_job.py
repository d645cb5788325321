"""The Upload page's long-video analysis as a worker job (core.analyse_job): submit, follow, cancel."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from core.analyse_job import analysis_state, cancel_analysis, discard_upload, submit_analysis
from core.auth import AccessDenied
from core.jobs.status import FINAL, RunStatus
from core.jobs.worker import ON_DEMAND_IDLE_EXIT_S, ensure_worker
from core.limits import LimitExceeded
from ui.auth import identity
from ui.limits import analysis_slot, session_key
from ui.text import md

JOB_KEY = "analysis_job"  # session state: the id of this visitor's running analysis


def submit_analysis_ui(path: Path, *, name: str, model: str, fps: float) -> int | None:
    """Queue the analysis of a saved upload (one analysis of the visitor's budget, one of their
    jobs) and start the worker if none runs; the job id, or None with the reason shown."""
    try:
        with analysis_slot():
            job_id = submit_analysis(path, name=name, model=model, fps=fps, identity=identity(),
                                     session_key=session_key())
    except (LimitExceeded, AccessDenied) as exc:
        discard_upload(path)
        st.warning(md(exc))
        return None
    try:
        ensure_worker(idle_exit_s=ON_DEMAND_IDLE_EXIT_S)
    except OSError as exc:
        st.warning(f"Could not start the job worker ({exc}); the analysis waits for `affectlab worker`.")
    st.session_state[JOB_KEY] = job_id
    return job_id


def analysis_job_ui(job_id: int) -> dict[str, Any] | None:
    """Follow an analysis job: a progress bar (frames done of the video's frames) and a Cancel
    button while it is queued or running; its final state (status, name, error ...) once it ended
    (failed if the job row is gone, e.g. the store was replaced)."""
    state = _state(job_id)
    if state["status"] in FINAL:
        return state
    _follow(job_id)
    return None


def _state(job_id: int) -> dict[str, Any]:
    try:
        return analysis_state(job_id)
    except LookupError:
        return {"status": RunStatus.FAILED, "name": "the video", "error": f"job {job_id} no longer exists"}


@st.fragment(run_every=1.0)
def _follow(job_id: int) -> None:
    state = _state(job_id)
    if state["status"] in FINAL:
        st.rerun()  # the whole page shows the outcome
    done, total = state["frames_done"], state["frames_total"]
    if state["status"] == RunStatus.QUEUED:
        text = "waiting for the job worker..."
    elif total:
        text = f"frame {done:,} of {total:,} ({state['analysed']:,} analysed)"
    else:
        text = "opening the video..."
    st.progress(float(state["progress"]), text=f"{md(state['name'])}: {text}")
    if state["status"] == RunStatus.CANCELLING:
        st.caption("Cancelling...")
    elif st.button("Cancel", key="analyse_cancel", icon=":material/cancel:"):
        try:
            cancel_analysis(job_id, identity=identity(), session_key=session_key())
        except AccessDenied as exc:
            st.error(md(exc))
            return
        st.rerun()


def outcome_ui(state: dict[str, Any]) -> None:
    """Say how a job that did not produce a timeline ended."""
    name = md(state["name"])
    if state["status"] == RunStatus.CANCELLED:
        total = state.get("frames_total")
        where = f" at frame {state['frames_done']:,} of {total:,}" if total else ""
        st.info(f"Analysis of {name} cancelled{where}.")
    elif state["status"] == RunStatus.FAILED:
        st.error(f"Analysis of {name} failed: {md(state['error'] or 'no reason recorded')}")
