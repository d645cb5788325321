"""Models: the catalog (pretrained default, trained runs, exported files), model cards and metrics,
ONNX/TorchScript export (run in a separate process, so the Live stream in this server stays fast)."""
from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from core.auth import Role
from core.catalog import describe_model
from core.export_model import export_in_subprocess
from core.inference.card import read_card
from core.model.prior import prior_note
from ui.auth import can, identity
from ui.models import model_entries, model_error_ui, model_select_ui

st.session_state["page"] = "models"
st.title("Models")
entries = model_entries()
st.dataframe([{"model": e.label, "kind": e.kind, "run": e.run_id, "backbone": e.backbone,
               "heads": ", ".join(f"{h} {f}" for h, f in e.flags.items()),
               "best epoch": e.metrics.get("epoch"), "score (macro-F1 + CCC)": e.metrics.get("score")}
              for e in entries], hide_index=True, width="stretch")
entry = model_select_ui(key="models_pick", where=st)
try:
    info = describe_model(entry)
except Exception as exc:  # noqa: BLE001 - a damaged file: a message, not a traceback
    model_error_ui(entry, exc)
config, checkpoint = info["config"], info["checkpoint"]
c1, c2 = st.columns(2)
with c1:
    st.subheader("Model card")
    st.write(f"backbone **{config.backbone}** · input {config.input_size}x{config.input_size}x{config.channels}"
             f" · classes {', '.join(config.classes)}")
    st.write("heads: " + ", ".join(f"{k} **{v}**" for k, v in info["flags"].items()))
    if note := prior_note(info["flags"]):
        st.info(note)
    if info["metrics"]:
        st.json(info["metrics"], expanded=False)
with c2:
    st.subheader("Export")
    if checkpoint is None:
        st.caption("This is an exported file whose checkpoint is not here: download it below.")
    else:
        fmt = st.radio("Format", ["onnx", "torchscript"], horizontal=True, key="models_fmt")
        if st.button("Export (with parity check on real faces)", key="models_export", disabled=not can(Role.ADMIN)):
            with st.spinner("exporting in a separate process..."):
                try:
                    st.session_state["models_exported"] = export_in_subprocess(
                        checkpoint, fmt, identity=identity())["path"]
                    model_entries.clear()  # the new file joins the catalog
                except Exception as exc:  # noqa: BLE001 - shown to the user with its reason
                    st.error(f"Export failed: {exc}")
    exported = st.session_state.get("models_exported") if checkpoint is not None else str(entry.path)
    if exported and Path(exported).exists() and (checkpoint is None
                                                 or Path(exported).parent == Path(checkpoint).parent):
        card = read_card(exported) or {}
        parity = card.get("parity") or {}
        st.success(f"{Path(exported).name}: {Path(exported).stat().st_size / 1e6:.2f} MB, "
                   f"max |diff| vs torch {parity.get('max_abs_diff', parity)}")
        st.download_button("Download model", Path(exported).read_bytes(), file_name=Path(exported).name,
                           key="models_download")
        st.download_button("Download model card (JSON)", json.dumps(card, indent=1, default=str),
                           file_name=Path(exported).name + ".json", key="models_card")
