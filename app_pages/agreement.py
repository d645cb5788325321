"""Agreement: per labelling task, how much annotators agree per field, each annotator against the
consensus, and the samples people disagree on most (one click opens them in Relabel)."""
from __future__ import annotations

import streamlit as st

from ui.agreement import (
    agreement_report,
    alpha_figure,
    dataset_tasks,
    open_in_relabel,
    pairwise_figure,
    versus_consensus_figure,
)
from ui.state import dataset_ui
from ui.text import md

st.session_state["page"] = "agreement"
ds = dataset_ui()
if ds is None:
    st.stop()
st.title(f"Agreement · {md(ds['name'])}")
tasks = dataset_tasks(ds["name"])
if not tasks:
    st.info("This dataset has no labelling task yet: `affectlab task create NAME --dataset "
            f"{md(ds['name'])} -k 3 --annotators a,b,c`.")
    st.stop()
task = st.sidebar.selectbox("Task", tasks, format_func=lambda t: t["task"], key="agreement_task")
cols = st.columns(4)
cols[0].metric("samples complete", f"{task['complete']} / {task['samples']}")
cols[1].metric("labels", f"{task['labels']} / {task['needed']}")
cols[2].metric("k", task["k"])
cols[3].metric("blind", "yes" if task["blind"] else "no")
st.dataframe([{"annotator": a, **p} for a, p in task["annotators"].items()], hide_index=True, key="progress")

report = agreement_report(ds["name"], task["task"])
if not report["fields"]:
    st.info("No sample has labels from two annotators yet.")
    st.stop()
st.subheader("Agreement per field")
st.caption("Krippendorff's alpha (`krippendorff` package): nominal for the emotion and per multi-label "
           "category, interval for V/A, dominance, stress and targets; ICC(2,1) on the samples every "
           "annotator rated.")
st.plotly_chart(alpha_figure(report["fields"]), key="alpha_chart")
st.dataframe([{"field": f["field"], "level": f["level"], "alpha": f["alpha"], "samples": f["units"],
               "ICC(2,1)": (f["icc"] or {}).get("ICC2"), "ICC(3,1)": (f["icc"] or {}).get("ICC3")}
              for f in report["fields"]], hide_index=True, key="alpha_table")

st.subheader("Each annotator against the consensus")
st.plotly_chart(versus_consensus_figure(report["fields"], report["annotators"]), key="consensus_chart")
field = st.selectbox("Pairwise agreement of", report["fields"], format_func=lambda f: f["field"], key="pair_field")
st.plotly_chart(pairwise_figure(field, report["annotators"]), key="pairwise_chart")

st.subheader("Samples people disagree on most")
worst = report["disagreements"]
st.dataframe([{"sample": d["sample_id"], "disagreement": round(d["score"], 3), "current emotion": d["emotion"],
               **{k: round(v, 3) for k, v in d["fields"].items()}} for d in worst],
             hide_index=True, key="disagreements")
if worst and st.button(f"Open the {len(worst)} in Relabel", key="open_all", type="primary"):
    open_in_relabel([d["sample_id"] for d in worst])
for row in (worst[i:i + 6] for i in range(0, min(len(worst), 12), 6)):
    for col, d in zip(st.columns(6), row):
        if col.button(f"#{d['sample_id']} · {d['score']:.2f}", key=f"open_{d['sample_id']}", width="stretch"):
            open_in_relabel([d["sample_id"]])
