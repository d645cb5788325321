"""Overview: datasets, sample and label counts, class balance per split, recent edits and runs."""
from __future__ import annotations

import streamlit as st

from ui.agreement import tasks_overview_ui
from ui.charts import plural
from ui.data import datasets, edits_and_runs, stats
from ui.label_format import edit_row, schema_text
from ui.label_modes import balance_ui, labelled_count, schema_of
from ui.text import md

st.title("AffectLab")
rows = datasets()
if not rows:
    st.info("No datasets yet. Import one with `affectlab import ...` or run `affectlab demo`.")
    st.stop()
schemas = {r["id"]: schema_of(r) for r in rows}
st.dataframe([{**{k: r[k] for k in ("name", "taxonomy", "samples")},
               "labelled": labelled_count(stats(r["id"]), schemas[r["id"]]), "labels": schema_text(schemas[r["id"]])}
              for r in rows], hide_index=True, width="stretch", key="datasets",
             column_config={"labels": st.column_config.TextColumn("label schema", width="large")})
for ds in rows:
    st.subheader(md(ds["name"]))
    st_ = stats(ds["id"])
    schema = schemas[ds["id"]]
    st.caption("label schema: " + md(schema_text(schema)))
    cols = st.columns(4)
    cols[0].metric("samples", st_["samples"])
    cols[1].metric("labelled", labelled_count(st_, schema))
    cols[2].metric("flagged", st_["flagged"])
    cols[3].metric("splits", len([k for k in st_["by_split"] if k != "none"]))
    sources = {("unlabelled" if k == "none" else k): v for k, v in st_["by_source"].items()}
    st.caption("current label source: " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items()))
               + " · labelled per task: " + ", ".join(
                   f"{task} {n} ({n / max(1, st_['samples']):.0%})" for task, n in st_["coverage"].items())
               + f" · model predictions (not labels) for {plural(st_['predicted'], 'sample')}")
    balance_ui(st_, schema, key=f"balance-{ds['id']}")
    tasks_overview_ui(ds["name"])  # labelling tasks: progress per task and annotator

left, right = st.columns(2)
edits, runs = edits_and_runs(10)
left.subheader("Recent edits")
if edits:
    left.dataframe([edit_row(e) for e in edits], hide_index=True,
                   width="stretch", key="recent_edits")
else:
    left.caption("No human edits yet.")
right.subheader("Recent runs")
if runs:
    right.dataframe(runs, hide_index=True, width="stretch", key="recent_runs")
else:
    right.caption("No runs yet.")
