"""Models: the pretrained default and trained runs, their model cards and metrics, ONNX/TorchScript export."""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from core.export_model import ensure_exported
from core.inference.card import read_card
from core.inference.catalog import model_entries
from core.model.checkpoint import load_checkpoint
from core.model.convert_fer import ensure_default_model
from ui.models import prior_note

st.session_state["page"] = "models"
st.title("Models")
entries = model_entries()
st.dataframe([{"model": e.label, "run": e.run_id, "best epoch": e.metrics.get("epoch"),
               "score (macro-F1 + CCC)": e.metrics.get("score")} for e in entries],
             hide_index=True, width="stretch")
label = st.selectbox("Model", [e.label for e in entries], key="models_pick")
entry = next(e for e in entries if e.label == label)
checkpoint = entry.path or ensure_default_model()
_, config, meta = load_checkpoint(checkpoint)
c1, c2 = st.columns(2)
with c1:
    st.subheader("Model card")
    st.write(f"backbone **{config.backbone}** · input {config.input_size}x{config.input_size}x{config.channels}"
             f" · classes {', '.join(config.classes)}")
    flags = {k: ("trained" if v else "prior") for k, v in config.trained.items()}
    st.write("heads: " + ", ".join(f"{k} **{v}**" for k, v in flags.items()))
    if note := prior_note(flags):
        st.info(note)
    val = (entry.metrics or {}).get("val") or (meta.get("metrics") or {})
    if val:
        st.json({k: v for k, v in val.items() if not isinstance(v, (list, dict))}, expanded=False)
with c2:
    st.subheader("Export")
    fmt = st.radio("Format", ["onnx", "torchscript"], horizontal=True, key="models_fmt")
    if st.button("Export (with parity check on real faces)", key="models_export"):
        with st.spinner("exporting..."):
            try:
                st.session_state["models_exported"] = str(ensure_exported(checkpoint, fmt))
            except Exception as exc:  # noqa: BLE001 - shown to the user with its reason
                st.error(f"Export failed: {exc}")
    exported = st.session_state.get("models_exported")
    if exported and Path(exported).exists() and Path(exported).parent == Path(checkpoint).parent:
        card = read_card(exported) or {}
        parity = card.get("parity") or {}
        st.success(f"{Path(exported).name}: {Path(exported).stat().st_size / 1e6:.2f} MB, "
                   f"max |diff| vs torch {parity.get('max_abs_diff', parity)}")
        st.download_button("Download model", Path(exported).read_bytes(), file_name=Path(exported).name,
                           key="models_download")
        st.download_button("Download model card (JSON)", json.dumps(card, indent=1, default=str),
                           file_name=Path(exported).name + ".json", key="models_card")
