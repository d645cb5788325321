"""Migration 0002 converts stored undo rows: raw {"undo": id} -> undoes_id, undo rows stop being heads."""
from __future__ import annotations

import json

from sqlalchemy import Engine, inspect, text

from core.config import get_settings
from core.store.db import make_engine, migrate


def _old_style_store(engine: Engine) -> None:
    """Sample 1: imported Fear, ana's edit Sad, bob's undo of it (the head, as 0001 stored it);
    a re-derived row undoing the first derived one. Sample 2: imported Happy, ana's edit Anger."""
    rows = [  # id, sample, annotator, source, emotion, stress, raw, supersedes
        (1, 1, None, "imported", "Fear", None, {"valence": 3}, None),
        (2, 1, None, "derived", None, 1.0, {"rules": {"x": 1}}, None),
        (3, 1, 1, "human", "Sad", None, None, 1),
        (4, 1, 2, "human", None, None, {"undo": 3}, 3),
        (5, 1, None, "derived", None, 0.0, {"rules": {"x": 2}, "undo": 2}, 2),
        (6, 2, None, "imported", "Happy", None, None, None),
        (7, 2, 1, "human", "Anger", None, None, 6),
    ]
    with engine.begin() as c:
        c.execute(text("INSERT INTO datasets (id, name, taxonomy, description, created_at) "
                       "VALUES (1, 'd', '{}', '', CURRENT_TIMESTAMP)"))
        c.execute(text("INSERT INTO annotators (id, name, created_at) VALUES "
                       "(1, 'ana', CURRENT_TIMESTAMP), (2, 'bob', CURRENT_TIMESTAMP)"))
        for sid, who, emo in ((1, 2, "Fear"), (2, 1, "Anger")):
            c.execute(text("INSERT INTO samples (id, dataset_id, crop_sha256, crop_path, source_path, "
                           "created_at, cur_emotion, cur_source, cur_annotator_id, has_prediction) "
                           "VALUES (:id, 1, :sha, 'c.png', '', CURRENT_TIMESTAMP, :emo, 'human', :who, "
                           "false)"), {"id": sid, "sha": str(sid) * 64, "emo": emo, "who": who})
        for aid, sid, who, src, emo, stress, raw, sup in rows:
            c.execute(text("INSERT INTO annotations (id, sample_id, annotator_id, source, emotion, stress, "
                           "raw, supersedes_id, note, created_at) VALUES (:id, :sid, :who, :src, :emo, "
                           ":stress, :raw, :sup, '', CURRENT_TIMESTAMP)"),
                      {"id": aid, "sid": sid, "who": who, "src": src, "emo": emo, "stress": stress,
                       "raw": json.dumps(raw) if raw is not None else None, "sup": sup})
        c.execute(text("UPDATE samples SET cur_annotation_id = CASE id WHEN 1 THEN 4 ELSE 7 END"))


def _annotations(engine: Engine, *cols: str) -> dict[int, tuple]:
    with engine.connect() as c:
        got = c.execute(text(f"SELECT id, {', '.join(cols)} FROM annotations ORDER BY id")).all()
    return {r[0]: tuple(json.loads(v) if isinstance(v, str) and col == "raw" else v
                        for col, v in zip(cols, r[1:])) for r in got}


def _heads(engine: Engine) -> dict[int, tuple]:
    with engine.connect() as c:
        return {r[0]: tuple(r[1:]) for r in c.execute(text(
            "SELECT id, cur_annotation_id, cur_source, cur_annotator_id FROM samples ORDER BY id"))}


def test_0002_moves_undo_out_of_raw_and_back(env):
    engine = make_engine(get_settings().db_url)
    migrate(engine, "0001")
    _old_style_store(engine)
    migrate(engine, "0002")
    anns = _annotations(engine, "raw", "undoes_id")
    assert anns[4] == (None, 3) and anns[5] == ({"rules": {"x": 2}}, 2)
    assert anns[1] == ({"valence": 3}, None) and anns[3][1] is None
    # sample 1's head was bob's undo: now the imported row it brought back; sample 2 unchanged
    assert _heads(engine) == {1: (1, "imported", None), 2: (7, "human", 1)}
    assert any(fk["constrained_columns"] == ["undoes_id"] and fk["referred_table"] == "annotations"
               for fk in inspect(engine).get_foreign_keys("annotations"))  # a real foreign key
    migrate(engine, "0001", down=True)
    anns = _annotations(engine, "raw")
    assert anns[4] == ({"undo": 3},) and anns[5] == ({"rules": {"x": 2}, "undo": 2},)
    assert _heads(engine) == {1: (4, "human", 2), 2: (7, "human", 1)}
    assert not any(fk["constrained_columns"] == ["undoes_id"]
                   for fk in inspect(engine).get_foreign_keys("annotations"))
    engine.dispose()


def _single_label_store(engine: Engine) -> None:
    """A 0005 store: dataset 'old' (FER-7), sample 1 imported Happy + V/A + derived stress, ana's
    edit Sad on top; sample 2 unlabelled; a prediction."""
    with engine.begin() as c:
        c.execute(text("INSERT INTO datasets (id, name, taxonomy, description, created_at) VALUES "
                       "(1, 'old', :tax, '', CURRENT_TIMESTAMP)"),
                  {"tax": json.dumps({"name": "fer7", "classes": ["Angry", "Disgust", "Fear", "Happy", "Sad",
                                                                   "Surprise", "Neutral"]})})
        c.execute(text("INSERT INTO annotators (id, name, created_at) VALUES (1, 'ana', CURRENT_TIMESTAMP)"))
        for sid in (1, 2):
            c.execute(text("INSERT INTO samples (id, dataset_id, crop_sha256, crop_path, source_path, created_at, "
                           "has_prediction) VALUES (:id, 1, :sha, 'c.png', 's.png', CURRENT_TIMESTAMP, false)"),
                      {"id": sid, "sha": str(sid) * 64})
        for aid, who, src, emo, val, aro, stress, sup in ((1, None, "imported", "Happy", 0.5, 0.25, None, None),
                                                          (2, None, "derived", None, None, None, 0.0, None),
                                                          (3, 1, "human", "Sad", None, None, None, 1)):
            c.execute(text("INSERT INTO annotations (id, sample_id, annotator_id, source, emotion, valence, arousal, "
                           "stress, supersedes_id, note, created_at) VALUES (:id, 1, :who, :src, :emo, :val, :aro, "
                           ":stress, :sup, '', CURRENT_TIMESTAMP)"),
                      {"id": aid, "who": who, "src": src, "emo": emo, "val": val, "aro": aro, "stress": stress,
                       "sup": sup})
        c.execute(text("UPDATE samples SET cur_annotation_id = 3, cur_emotion = 'Sad', cur_valence = 0.5, "
                       "cur_arousal = 0.25, cur_stress = 0.0, cur_source = 'human', cur_annotator_id = 1, "
                       "cur_sources = :src WHERE id = 1"),
                  {"src": json.dumps({"emotion": "human", "valence": "imported", "arousal": "imported",
                                      "stress": "derived"})})
        c.execute(text("INSERT INTO predictions (id, sample_id, model_version, probs, emotion, confidence, "
                       "created_at) VALUES (1, 2, 'm', :p, 'Fear', 0.9, CURRENT_TIMESTAMP)"),
                  {"p": json.dumps({"Fear": 0.9, "Sad": 0.1})})
        if engine.dialect.name == "postgresql":  # explicit ids: move the id sequences past them
            for table in ("datasets", "annotators", "samples", "annotations", "predictions"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))


def _snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as c:
        return {t: [tuple(r) for r in c.execute(text(f"SELECT {cols} FROM {t} ORDER BY 1"))] for t, cols in (
            ("datasets", "id, name, taxonomy"),
            ("samples", "id, cur_annotation_id, cur_emotion, cur_valence, cur_arousal, cur_stress, cur_source, "
                        "cur_sources, cur_annotator_id"),
            ("annotations", "id, sample_id, annotator_id, source, emotion, valence, arousal, stress, supersedes_id"),
            ("predictions", "id, sample_id, probs, emotion, confidence"))}


def test_0006_keeps_every_single_label_and_adds_the_richer_fields(env):
    from sqlalchemy.orm import Session

    from core.store.current import refresh_current
    from core.store.datasets import dataset_schema
    from core.store.labels import edit_label
    from core.store.models import Dataset, Sample

    engine = make_engine(get_settings().db_url)
    migrate(engine, "0005")
    _single_label_store(engine)
    before = _snapshot(engine)
    migrate(engine, "0006")
    assert _snapshot(engine) == before
    cols = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in ("samples", "annotations", "datasets")}
    assert {"cur_emotions", "cur_distribution", "cur_dominance", "cur_targets"} <= cols["samples"]
    assert {"emotions", "distribution", "dominance", "targets"} <= cols["annotations"]
    assert "label_schema" in cols["datasets"] and "sample_categories" in inspect(engine).get_table_names()
    migrate(engine)  # later revisions (labelling tasks) too: what the ORM below reads
    assert _snapshot(engine) == before
    with Session(engine) as s, s.begin():
        schema = dataset_schema(s.get(Dataset, 1))
        assert (schema.emotion_mode, schema.class_list, schema.classes[3]) == ("single", "fer7", "Happy")
        refresh_current(s, [1, 2])  # recomputed from the annotations: the same current label
    assert _snapshot(engine) == before
    with Session(engine) as s, s.begin():
        edit_label(s, 1, base_annotation_id=3, annotator="ana", valence=-0.5)
        assert (s.get(Sample, 1).cur_emotion, s.get(Sample, 1).cur_valence) == ("Sad", -0.5)
    migrate(engine, "0005", down=True)  # the single-label history survives a downgrade too
    after = _snapshot(engine)
    assert after["annotations"][:3] == before["annotations"] and len(after["annotations"]) == 4
    assert "sample_categories" not in inspect(engine).get_table_names()
    engine.dispose()
