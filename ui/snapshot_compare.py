"""Review's "compare with a later snapshot" panel: was the model right and the label wrong?"""
from __future__ import annotations

import streamlit as st

from core.store.db import read_session
from core.store.review import ReviewSource
from core.store.snapshot_compare import compare_with_snapshot, later_snapshots
from ui.text import md


def snapshot_compare_ui(source: ReviewSource) -> None:
    """For a run's predictions: pick a snapshot taken after the one the run trained on and list the
    samples whose label changed since, with what the model said about each."""
    if source.run_id is None:
        return
    with read_session() as s:
        trained, later = later_snapshots(s, source.run_id)
    if trained is None:
        return
    with st.expander(f"Compare with a later snapshot (this run trained on {md(trained)})"):
        if not later:
            st.caption("No snapshot was taken after this run's; create one with "
                       "`affectlab snapshot create NAME --dataset …` once labels have changed.")
            return
        name = st.selectbox("Later snapshot", later, key="rv_later_snapshot")
        with read_session() as s:
            out = compare_with_snapshot(s, source.run_id, name)
        acc = [f"accuracy vs {md(n)} {v:.3f}" for n, v in ((trained, out["accuracy_trained_on"]),
                                                           (name, out["accuracy_later"])) if v is not None]
        st.caption(f"{out['changed']} of {out['compared']} labels changed · " + " · ".join(acc))
        cols = st.columns(len(out["verdicts"]))
        for col, (verdict, n) in zip(cols, out["verdicts"].items()):
            col.metric(verdict, n)
        if out["samples"]:
            st.dataframe([{"sample": c["sample_id"], "label then": str(c["before"]), "label now": str(c["after"]),
                           "model said": str(c["predicted"]), "verdict": c["verdict"]} for c in out["samples"]],
                         hide_index=True, width="stretch")
