"""The sample detail view: crop, source frame with box and landmarks, label history, predictions."""
from __future__ import annotations

import streamlit as st

from core.store.clips import get_clip
from core.store.db import read_session
from core.store.labels import HistoryEntry
from core.store.samples import sample_detail
from ui.clip_view import clip_player_ui, clip_strip_ui
from ui.label_format import outputs_text, values_text
from ui.text import md


def history_rows(history: list[HistoryEntry]) -> list[dict[str, str]]:
    """One table row per annotation. An undo row carries no values of its own: it says which edit
    it undid and what that brought back (the values the undone edit had replaced)."""
    by_id = {h.annotation_id: h for h in history}
    return [{"when": h.created_at.strftime("%Y-%m-%d %H:%M:%S"), "who": h.annotator or h.source,
             "source": h.source, "before": "—" if h.undoes_id else values_text(h.before),
             "after": _undo_text(h, by_id.get(h.undoes_id)) if h.undoes_id else values_text(h.after),
             "note": h.note} for h in history]


def _undo_text(undo: HistoryEntry, target: HistoryEntry | None) -> str:
    restored = target.before if target is not None else None
    if not restored or all(v is None for v in restored.values()):
        return f"undo of #{undo.undoes_id} (no earlier label)"
    return f"undo of #{undo.undoes_id} (restored {values_text(restored)})"


def sample_detail_ui(sample_id: int) -> bool:
    """Draw the detail of one sample; returns True when "relabel" was pressed. LookupError when
    the sample does not exist."""
    from core.viz import bgr_to_rgb, crop_image, draw_face, source_frame  # cv2: only once a sample opens

    with read_session() as s:
        d = sample_detail(s, sample_id)
        clip = get_clip(s, sample_id)
    smp = d.sample
    st.subheader(f"Sample #{smp.id}" + (" · clip" if clip else ""))
    c1, c2 = st.columns([1, 2])
    with c1:
        st.image(bgr_to_rgb(crop_image(smp.crop_path)), caption="representative frame" if clip else "aligned crop",
                 width="stretch")
        st.write(f"split **{md(smp.split or '—')}** · subject **{md(smp.subject or '—')}** · quality "
                 f"**{'—' if smp.quality is None else f'{smp.quality:.2f}'}**")
        if smp.flag:
            st.warning(md(smp.flag))
        relabel = st.button("Relabel this sample", key=f"relabel-{smp.id}", type="primary")
    with c2:
        frame = source_frame(d.media.path, d.media.kind, smp.frame_index) if d.media and not clip else None
        if clip is not None:  # a clip: the player of its segment here, its frame strip below
            clip_player_ui(clip)
        elif frame is not None:
            drawn = draw_face(frame, bbox=smp.bbox, keypoints=smp.keypoints, landmarks=d.landmarks)
            where = f" frame {smp.frame_index} ({smp.timestamp:.2f} s)" if smp.frame_index is not None else ""
            st.image(bgr_to_rgb(drawn), caption=f"{md(d.media.original_name)}{where}", width="stretch")
        else:
            st.caption(f"source: {md(smp.source_path or 'unknown')} (no source frame stored)")
    if clip is not None:
        clip_strip_ui(clip)
    st.markdown("**Label history** (newest first)")
    st.dataframe(history_rows(d.history), hide_index=True, width="stretch",
                 column_config={"after": st.column_config.TextColumn(width="large"),
                                "note": st.column_config.TextColumn(width="medium")})
    if d.predictions:
        st.markdown("**Predictions**")
        st.dataframe([{"model": p.model_version, "emotion": p.emotion,
                       "confidence": p.confidence, "valence": p.valence, "arousal": p.arousal,
                       "stress": p.stress, "outputs": outputs_text(p.outputs),
                       "prior": ", ".join(k for k, v in (p.flags or {}).items() if v == "prior") or "—"}
                      for p in d.predictions], hide_index=True, width="stretch")
    if d.features:
        with st.expander("Features"):
            for kind, values in d.features.items():
                st.caption(kind)
                st.json(values, expanded=False)
    return relabel
