"""Issue 13's "done when", end to end on generated data and the real face video: a CREMA-D-style
set with audio and an FIV2-style set import as clips, embed with the default backbone, train from
the Train page (temporal, baseline, audio-visual, audio only, then a fusion of two finished runs)
through the real worker loop, report per-modality metrics, and `predict --clip --render` with a
run trained here turns the asset video into per-clip predictions and an annotated mp4 with audio."""
from __future__ import annotations

import json

import av
import pytest

from core.clips.store_embed import embed_dataset
from core.ingest import import_path
from core.jobs.status import RunStatus
from tests.apptest import open_app
from tests.clips.clipgen import FACES
from tests.conftest import ASSETS
from tests.ingest.clipsets import clip
from tests.pages.test_train_page_ssl import no_worker  # noqa: F401 - autouse: a fake running worker
from tests.training.jobs_common import get, work_until_idle

pytestmark = pytest.mark.slow
N = 4
TRAITS = ("extraversion", "neuroticism", "agreeableness", "conscientiousness", "interview", "openness")


def _queue_from_the_train_page(dataset_id: int, kind: str, *, members: list[int] = ()) -> int:
    from sqlalchemy import func, select

    from core.store.db import read_session
    from core.store.models import Run

    at = open_app("train", dataset_id=dataset_id)
    at.selectbox(key="clip_kind").set_value(kind).run()
    at.number_input(key="clip_epochs").set_value(4)
    at.number_input(key="clip_batch").set_value(4)
    if members:
        at.multiselect(key="clip_members").set_value(list(members))
    at.button(key="clip_queue").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    with read_session() as s:
        return int(s.scalar(select(func.max(Run.id))))


def test_clip_sets_import_embed_train_evaluate_and_predict_with_render(env, capsys, tmp_path):
    crema = env / "crema"  # 4 actors x 2 emotions; anger shows faces 0/2 over a low tone, happiness 1/3
    for actor in range(4):
        for emo, face, hz in (("ANG", FACES[actor % 2 * 2], 300.0), ("HAP", FACES[actor % 2 * 2 + 1], 900.0)):
            clip(crema / f"10{actor:02d}_DFA_{emo}_XX.mp4", frames=12 + 4 * actor, face=face, audio_hz=hz)
    report = import_path("crema-d", crema, dataset="cd", options={"clip_frames": N})
    assert not report.errors and report.added == 8

    fiv2 = env / "fiv2"  # three YouTube ids (subjects), two clips each, traits follow the face
    labels: dict[str, dict[str, float]] = {t: {} for t in TRAITS}
    for i, yt in enumerate(("aaaaaaaaaaa", "bbbbbbbbbbb", "ccccccccccc")):
        for j in range(2):
            name = f"{yt}.00{j}.mp4"
            clip(fiv2 / name, frames=12 + 4 * i, face=FACES[j], audio_hz=None)
            for t in TRAITS:
                labels[t][name] = 0.2 + 0.6 * j
    (fiv2 / "annotation_training.json").write_text(json.dumps(labels))
    report = import_path("fiv2", fiv2, dataset="fi", options={"frames": 1, "clip_frames": N})
    assert not report.errors

    for dataset, audio in (("cd", 4), ("fi", 0)):
        out = embed_dataset(dataset)  # the catalog's default backbone, the real one
        assert out["embedded"] == out["clips"] > 0 and out["audio"] == (8 if audio else 0)

    runs = {kind: _queue_from_the_train_page(1, kind) for kind in ("temporal", "mean-baseline", "audio-visual",
                                                                   "audio")}
    runs["traits"] = _queue_from_the_train_page(2, "temporal")
    work_until_idle(timeout=600)
    runs["fusion"] = _queue_from_the_train_page(1, "fusion", members=[runs["temporal"], runs["mean-baseline"]])
    work_until_idle(timeout=600)

    for name, run_id in runs.items():
        assert get(run_id).status == RunStatus.SUCCEEDED, (name, get(run_id).error)
    modalities = get(runs["audio-visual"]).metrics["modalities"]
    assert set(modalities) == {"visual", "audio", "fused"}
    assert all("emotion_accuracy" in m for m in modalities.values())
    assert "emotion_accuracy" in get(runs["fusion"]).metrics["modalities"]["fused"]
    assert any(k.startswith("ccc") or "ccc" in k for k in json.dumps(get(runs["traits"]).metrics).split('"'))

    from cli.app import main

    rendered = tmp_path / "annotated.mp4"
    capsys.readouterr()
    rc = main(["predict", str(ASSETS / "single_face.mp4"), "--clip", "--model", f"run:{runs['temporal']}",
               "--render", str(rendered), "--json"])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    out = json.loads(printed.out.strip().splitlines()[-1])
    [window] = out["windows"]
    assert window["prediction"]["emotion"] in ("Anger", "Happy") and window["face_frames"] == N
    assert window["prediction"]["flags"]["emotion"] == "trained"
    assert out["render"]["frames"] == 72 and out["render"]["audio"]
    with av.open(str(rendered)) as container:
        assert container.streams.video[0].frames in (0, 72) and len(container.streams.audio) == 1
        assert sum(1 for _ in container.decode(video=0)) == 72
