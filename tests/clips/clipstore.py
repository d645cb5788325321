"""A store of generated clip samples for the strip, Browse and Relabel tests: real asset faces in
PyAV-written videos imported through the clip CSV importer (face tracking, masking, crop stacks)."""
from __future__ import annotations

from pathlib import Path

from core.ingest import import_path
from core.store.clips import list_clips
from core.store.db import read_session
from tests.clips.clipgen import FACES, write_clip

FRAMES = 8  # --clip-frames
FACELESS = range(20, 30)  # frames of tone.mp4 without a face: slots 3 and 4 (frames 21, 27) are masked
MASKED = [3, 4]
HEADER = "video_path,start,end,emotion,valence,arousal,stress,subject"
ROWS = {  # video -> table row after the path
    "tone.mp4": ",,happy,0.5,0.25,0.3,ana",  # 2 s, 440 Hz tone, masked slots
    "silent.mp4": "0.5,1.5,sad,-0.5,-0.2,0.6,bo",  # no audio track; a segment that starts at 0.5 s
    "cut.avi": ",,neutral,0,0,0.1,cy",  # MPEG-4 Part 2 in AVI: a browser cannot play it as it is
}


def write_clip_set(root: Path, header: str = HEADER, rows: dict[str, str] | None = None) -> Path:
    """The three videos and clips.csv under root; returns the table."""
    root.mkdir(parents=True, exist_ok=True)
    write_clip(root / "tone.mp4", faceless=FACELESS)
    write_clip(root / "silent.mp4", audio_hz=None, face=FACES[1])
    write_clip(root / "cut.avi", frames=24, face=FACES[2], codec="mpeg4")
    table = root / "clips.csv"
    table.write_text("\n".join([header, *(f"{v},{r}" for v, r in (rows or ROWS).items())]) + "\n")
    return table


def seed_clip_store(env: Path, dataset: str = "clips") -> dict[str, int]:
    """Import the clip set into `dataset`; returns video name -> clip sample id."""
    report = import_path("clip-csv", write_clip_set(env / "clipset"), dataset=dataset,
                         options={"clip_frames": FRAMES})
    assert not report.errors and report.added == len(ROWS), report
    with read_session() as s:
        clips = list_clips(s, 1)
    from core.store.models import Sample

    with read_session() as s:
        by_source = {s.get(Sample, c.sample_id).source_path: c.sample_id for c in clips}
    return {Path(k).name: v for k, v in by_source.items()}


def seed_mode_clips(env: Path) -> dict[str, int]:
    """After seed_clip_store: tone.mp4 as a clip of a multi-label dataset (EMOTIC schema, V/A/D)
    and of a distribution dataset with two trait targets; returns mode -> clip sample id."""
    import json

    from core.label_schema import emotic_schema

    root = env / "clipset"
    multi = root / "multi.csv"
    multi.write_text('video_path,emotions,valence,arousal,dominance\ntone.mp4,"[""Anger"", ""Fear""]",0.1,0.2,-0.3\n')
    (root / "multi.schema.json").write_text(json.dumps(emotic_schema().to_dict()))
    dist = root / "dist.csv"
    dist.write_text("video_path,happy,sad,openness,extraversion\ntone.mp4,3,1,0.6,0.7\n")
    out = {}
    for mode, table in (("multi", multi), ("distribution", dist)):
        report = import_path("clip-csv", table, dataset=f"clip_{mode}", options={"clip_frames": FRAMES})
        assert not report.errors and report.added == 1, report
        with read_session() as s:
            from core.store.models import Dataset

            ds = s.query(Dataset).filter_by(name=f"clip_{mode}").one()
            (c,) = list_clips(s, ds.id)
        out[mode] = c.sample_id
    return out
