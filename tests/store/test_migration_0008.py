"""Migration 0008 adds the clips table to a 0007 store without touching its rows; downgrade drops it
(the clip samples stay as plain samples)."""
from __future__ import annotations

import json

from sqlalchemy import inspect, text

from core.config import get_settings
from core.store.db import make_engine, migrate


def _rows(engine) -> list[tuple]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text("SELECT id, crop_sha256, cur_emotion FROM samples ORDER BY id"))]


def test_0008_up_and_down(env):
    engine = make_engine(get_settings().db_url)
    migrate(engine, "0007")
    with engine.begin() as c:
        c.execute(text("INSERT INTO datasets (id, name, taxonomy, description, created_at) "
                       "VALUES (1, 'd', '{}', '', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO media (id, sha256, path, original_name, kind, created_at) "
                       "VALUES (1, :sha, 'media/aa/x.mp4', 'x.mp4', 'video', CURRENT_TIMESTAMP)"), {"sha": "a" * 64})
        c.execute(text("INSERT INTO samples (id, dataset_id, crop_sha256, crop_path, source_path, media_id, "
                       "created_at, cur_emotion, has_prediction) VALUES (1, 1, :sha, 'c.png', 'x.mp4', 1, "
                       "CURRENT_TIMESTAMP, 'Happy', false)"), {"sha": "b" * 64})
    before = _rows(engine)
    assert "clips" not in inspect(engine).get_table_names()
    migrate(engine, "0008")
    assert _rows(engine) == before
    cols = {c["name"] for c in inspect(engine).get_columns("clips")}
    assert {"sample_id", "media_id", "start", "end", "frames", "rule", "frame_indices", "mask", "crops_sha256",
            "crops_path", "has_audio", "arrays"} <= cols
    assert "ix_clips_media" in {i["name"] for i in inspect(engine).get_indexes("clips")}
    with engine.begin() as c:  # a clip row of sample 1, read back through the store API
        c.execute(text('INSERT INTO clips (sample_id, media_id, start, "end", frames, rule, frame_indices, mask, '
                       "crops_sha256, crops_path, has_audio, created_at) VALUES (1, 1, 0.5, 1.5, 2, :rule, "
                       ":idx, :mask, :sha, 'clip_crops/bb/x.npy', true, CURRENT_TIMESTAMP)"),
                  {"rule": json.dumps({"mode": "even", "frames": 2}), "idx": json.dumps([3, -1]),
                   "mask": json.dumps([True, False]), "sha": "b" * 64})
    from sqlalchemy.orm import Session

    from core.store.clips import get_clip

    with Session(engine) as s:
        got = get_clip(s, 1)
    assert (got.start, got.end, got.frame_indices, got.mask, got.media_path) == (0.5, 1.5, [3, -1], [True, False],
                                                                               "media/aa/x.mp4")
    migrate(engine, "0007", down=True)
    assert "clips" not in inspect(engine).get_table_names() and _rows(engine) == before
    migrate(engine)  # and up to the head again
    assert "clips" in inspect(engine).get_table_names()
    engine.dispose()
