"""Overview: datasets, sample and label counts, class balance per split."""
from __future__ import annotations

import streamlit as st
from sqlalchemy import select

from core.store.db import read_session
from core.store.models import Run
from core.store.queries import recent_edits
from ui.charts import class_balance_figure
from ui.data import datasets, stats
from ui.text import md

st.title("AffectLab")
rows = datasets()
if not rows:
    st.info("No datasets yet. Import one with `python -m core import ...` or run `python -m core demo`.")
    st.stop()
st.dataframe([{k: r[k] for k in ("name", "taxonomy", "samples", "labelled")} for r in rows],
             hide_index=True, width="stretch")
for ds in rows:
    st.subheader(md(ds["name"]))
    st_ = stats(ds["id"])
    cols = st.columns(4)
    cols[0].metric("samples", st_["samples"])
    cols[1].metric("labelled", st_["labelled"])
    cols[2].metric("flagged", st_["flagged"])
    cols[3].metric("splits", len([k for k in st_["by_split"] if k != "none"]))
    st.caption("current label source: " + ", ".join(f"{k} {v}" for k, v in sorted(st_["by_source"].items()))
               + " · labelled per task: " + ", ".join(
                   f"{task} {n} ({n / max(1, st_['samples']):.0%})" for task, n in st_["coverage"].items()))
    st.plotly_chart(class_balance_figure(st_["emotion_by_split"], ds["classes"]),
                    key=f"balance-{ds['id']}")

left, right = st.columns(2)
with read_session() as s:
    edits = recent_edits(s, limit=10)
    runs = list(s.scalars(select(Run).order_by(Run.id.desc()).limit(10)))
left.subheader("Recent edits")
if edits:
    left.dataframe([{**e, "when": e["when"].strftime("%Y-%m-%d %H:%M")} for e in edits], hide_index=True,
                   width="stretch", key="recent_edits")
else:
    left.caption("No human edits yet.")
right.subheader("Recent runs")
if runs:
    right.dataframe([{"id": r.id, "name": r.name, "status": r.status,
                      "best score": ((r.metrics or {}).get("best") or {}).get("score")} for r in runs],
                    hide_index=True, width="stretch", key="recent_runs")
else:
    right.caption("No runs yet.")
