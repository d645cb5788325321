"""AppTest of Review on a clip run: a generated CREMA-D-style clip set with a tiny trained
audio-visual run; the per-modality metrics table and the clips ordered by each modality's loss."""
from __future__ import annotations

from sqlalchemy import select

from core.store.db import read_session
from core.store.models import Prediction, Run
from tests.apptest import open_app
from tests.training.clip_review_seed import seed_clip_run


def _ids(at) -> list[int]:
    return [int(b.key.rsplit("-", 1)[1]) for b in at.button if b.key and b.key.startswith("review-open-")]


def _expected(run_id: int, modality: str, *, best: bool = False, split: str | None = None) -> list[int]:
    """The clips by that modality's stored loss, read straight from the predictions."""
    with read_session() as s:
        rows = s.scalars(select(Prediction).where(Prediction.run_id == run_id)).all()
    losses = {p.sample_id: p.outputs["modalities"][modality]["loss"] for p in rows if split in (None, p.split)}
    return sorted(losses, key=lambda sid: (losses[sid] if best else -losses[sid], sid))


def test_review_orders_clips_by_each_modality_loss_and_shows_the_modality_table(env):
    run_id = seed_clip_run(env)
    at = open_app("review", demo_ready=True)
    table = at.dataframe[0].value
    with read_session() as s:
        trained = s.get(Run, run_id).metrics["modalities"]
    assert table["modality"].tolist() == ["fused", "visual only", "audio only"]
    assert set(table.columns) == {"modality", *trained["fused"]}
    assert table["emotion_accuracy"].tolist() == [trained[m]["emotion_accuracy"] for m in ("fused", "visual", "audio")]
    assert _ids(at) == _expected(run_id, "fused") and len(_ids(at)) == 4  # worst first
    assert any("fused loss" in c.value and "face in" in c.value for c in at.caption)

    for modality in ("visual", "audio"):
        at.sidebar.selectbox(key="rv_cmod").set_value(modality).run()
        assert not at.exception, at.exception
        assert _ids(at) == _expected(run_id, modality)
    at.sidebar.selectbox(key="rv_corder").set_value("best").run()
    assert _ids(at) == _expected(run_id, "audio", best=True)
    at.sidebar.selectbox(key="rv_split").set_value("held-out").run()
    held = _ids(at)
    assert held == _expected(run_id, "audio", split="held-out") and len(held) == 1
    at.button(key=f"review-open-{held[0]}").click().run()  # "open" hands the clip to Relabel
    assert at.session_state["relabel_queue"] == held
