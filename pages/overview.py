"""Overview: datasets, sample and label counts, class balance per split."""
from __future__ import annotations

import streamlit as st

from ui.charts import class_balance_figure
from ui.data import datasets, stats

st.title("AffectLab")
rows = datasets()
if not rows:
    st.info("No datasets yet. Import one with `python -m core import ...` or run `python -m core demo`.")
    st.stop()
st.dataframe([{k: r[k] for k in ("name", "taxonomy", "samples", "labelled")} for r in rows],
             hide_index=True, width="stretch")
for ds in rows:
    st.subheader(f"{ds['name']}")
    st_ = stats(ds["id"])
    cols = st.columns(4)
    cols[0].metric("samples", st_["samples"])
    cols[1].metric("labelled", st_["labelled"])
    cols[2].metric("flagged", st_["flagged"])
    cols[3].metric("splits", len([k for k in st_["by_split"] if k != "none"]))
    st.caption("current label source: " + ", ".join(f"{k} {v}" for k, v in sorted(st_["by_source"].items())))
    st.plotly_chart(class_balance_figure(st_["emotion_by_split"], ds["classes"]),
                    key=f"balance-{ds['id']}")
