"""AppTest of clips in Browse and Relabel: grid tiles badged as clips, the detail's frame strip
(one image per slot, masked slots marked "no face") and a player of the segment (start/end, or an
exact cut for an AVI; "no audio track" when the source has none); Relabel shows strip and player
and a clip takes every field of its dataset's schema through the one label writer."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.store.db import read_session
from core.store.models import Annotation, Sample
from tests.apptest import open_app
from tests.clips.clipstore import FRAMES, MASKED, seed_clip_store, seed_mode_clips


@pytest.fixture
def clip_ids(env) -> dict[str, int]:
    return seed_clip_store(env)


def _strip(at):
    """The one image list with a caption per slot (the frame strip)."""
    (strip,) = [el for el in at.get("image") if len(el.captions) > 1]
    return strip


def _video(at):
    (video,) = at.get("video")
    return video.proto


def _annotations(sample_id: int) -> int:
    with read_session() as s:
        return s.scalar(select(func.count()).select_from(Annotation).where(Annotation.sample_id == sample_id))


def _sample(i: int) -> Sample:
    with read_session() as s:
        return s.get(Sample, i)


def test_browse_grid_badges_clips_and_the_detail_shows_strip_and_player(clip_ids):
    at = open_app("browse", dataset_id=1, demo_ready=True)
    badges = [c.value for c in at.caption if "clip ·" in c.value]
    assert badges == [":material/movie: clip · 8 frames · 2.0 s", ":material/movie: clip · 8 frames · 1.0 s", ":material/movie: clip · 8 frames · 1.1 s"]
    at.button(key=f"browse-open-{clip_ids['tone.mp4']}").click().run()
    assert not at.exception, at.exception
    strip = _strip(at)
    assert len(strip.value) == FRAMES
    marked = [i for i, c in enumerate(strip.captions) if c.endswith("no face")]
    assert marked == MASKED and strip.captions[0] == "0.12 s" and strip.captions[3] == "0.88 s · no face"
    assert any(c.value == f"**{FRAMES} frames** sampled (even) · 2 without the clip's face (grey)" for c in at.caption)
    video = _video(at)
    assert (video.start_time, video.end_time) == (0, 2) and video.url
    captions = [c.value for c in at.caption]
    assert "segment 0.00–2.00 s of the source" in captions  # audio present: no "no audio track"


def test_browse_player_of_a_silent_segment_and_of_an_avi(clip_ids):
    at = open_app("browse", dataset_id=1, demo_ready=True)
    at.button(key=f"browse-open-{clip_ids['silent.mp4']}").click().run()
    assert not at.exception, at.exception
    video = _video(at)
    assert (video.start_time, video.end_time) == (0, 2)  # 0.5-1.5 s in the whole seconds a player takes
    assert any(c.value.startswith("segment 0.50–1.50 s") and c.value.endswith("· no audio track")
               for c in at.caption)
    assert not [c for c in _strip(at).captions if "no face" in c]
    at.button(key="detail_next").click().run()  # the AVI: cut to the exact segment for the browser
    assert not at.exception, at.exception
    video = _video(at)
    assert (video.start_time, video.end_time) == (0, 0) and video.url  # 0: no end, the cut is the segment
    assert any(c.value.endswith("(cut from the source for the player)") for c in at.caption)
    assert _strip(at).captions[0].endswith("no frame")  # no decoded frame near the first slot


def test_relabel_clip_single_label_shows_strip_and_player_and_writes_a_new_annotation(clip_ids):
    sid = clip_ids["tone.mp4"]
    at = open_app("relabel", dataset_id=1, demo_ready=True, relabel_queue=[sid], annotator="ana")
    assert len(_strip(at).value) == FRAMES and (_video(at).start_time, _video(at).end_time) == (0, 2)
    assert not [el for el in at.get("image") if len(el.captions) == 1]  # no single crop for a clip
    key = _editor_key(at, "-b0")
    before = _annotations(sid)
    at.button(key=f"{key}-b2").click().run()  # Sad
    for field, value in {"v": -0.6, "a": -0.2, "stress": 0.8}.items():  # valence, arousal, stress
        at.slider(key=f"{key}-{field}").set_value(value).run()
    at.button(key="save").click().run()
    assert not at.exception and at.success[0].value.startswith(f"Saved sample #{sid}")
    smp = _sample(sid)
    assert (smp.cur_emotion, smp.cur_valence, smp.cur_arousal, smp.cur_stress) == ("Sad", -0.6, -0.2, 0.8)
    assert smp.cur_sources["emotion"] == "human" and _annotations(sid) == before + 1


def _editor_key(at, suffix: str) -> str:
    widgets = [*at.button, *at.slider, *at.multiselect]
    return next(w.key for w in widgets if w.key and w.key.endswith(suffix)).rsplit("-", 1)[0]


def test_relabel_clip_in_the_multi_label_and_distribution_schemas(clip_ids, env):
    ids = seed_mode_clips(env)
    at = open_app("relabel", dataset_id=2, demo_ready=True, relabel_queue=[ids["multi"]], annotator="ana")
    assert len(_strip(at).value) == FRAMES and _video(at).url
    key = _editor_key(at, "-c0")
    before = _annotations(ids["multi"])
    at.button(key=f"{key}-c0").click().run()  # Affection on (Anger, Fear imported)
    at.slider(key=f"{key}-d").set_value(0.4).run()
    at.button(key="save").click().run()
    assert not at.exception and at.success[0].value.startswith(f"Saved sample #{ids['multi']}")
    smp = _sample(ids["multi"])
    assert smp.cur_emotions == ["Affection", "Anger", "Fear"] and smp.cur_dominance == pytest.approx(0.4)
    assert _annotations(ids["multi"]) == before + 1

    at = open_app("relabel", dataset_id=3, demo_ready=True, relabel_queue=[ids["distribution"]], annotator="bo")
    assert len(_strip(at).value) == FRAMES
    key = _editor_key(at, "-dist")
    assert at.multiselect(key=f"{key}-dist").value == ["Happy", "Sad"]
    at.multiselect(key=f"{key}-dist").select("Fear").run()
    fear = next(sl.key for sl in at.slider if sl.key.startswith(f"{key}-int") and "Fear" in sl.label)
    at.slider(key=fear).set_value(2.0).run()
    at.slider(key=f"{key}-t0").set_value(0.9).run()  # the first target (extraversion)
    before = _annotations(ids["distribution"])
    at.button(key="save").click().run()
    assert not at.exception and at.success[0].value.startswith(f"Saved sample #{ids['distribution']}")
    smp = _sample(ids["distribution"])
    assert smp.cur_distribution == pytest.approx({"Happy": 0.5, "Sad": 1 / 6, "Fear": 1 / 3})  # 3 : 1 : 2
    assert smp.cur_targets == {"extraversion": 0.9, "openness": 0.6}
    assert smp.cur_sources["target:extraversion"] == "human" and _annotations(ids["distribution"]) == before + 1
