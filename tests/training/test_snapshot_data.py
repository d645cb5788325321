"""A run trains on the labels of the snapshot it names (taken when it was queued), not on labels
changed or samples added afterwards."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.jobs.store import create_run
from core.store.datasets import dataset_schema, require_dataset
from core.store.db import read_session, write_session
from core.store.labels import edit_label
from core.store.models import Run, Sample
from core.train_config import TrainConfig
from tests.training.tiny import import_tiny, tiny_config
from training.data import load_rows
from training.setup import load_data


def test_training_reads_the_snapshot_it_was_queued_with(env):
    import_tiny(env, 32)
    run_id = create_run(tiny_config().to_dict())  # takes a snapshot of the labels now
    with write_session() as s, s.begin():
        sid = s.scalar(select(Sample.id).where(Sample.split == "train", Sample.cur_emotion.is_not(None))
                       .order_by(Sample.id).limit(1))
        smp = s.get(Sample, sid)
        before = smp.cur_emotion
        after = "Happy" if before != "Happy" else "Sad"
        edit_label(s, sid, base_annotation_id=smp.cur_annotation_id, annotator="ana", emotion=after)
    import_tiny(env, 48)  # 16 more samples after the snapshot
    with read_session() as s:
        config = dict(s.get(Run, run_id).config)
        ds = require_dataset(s, "tiny")
        classes = list(dataset_schema(ds).classes)
        frozen = load_rows(s, ds.id, None, classes, snapshot=config["snapshot"])
        current = load_rows(s, ds.id, None, classes)
    assert len(frozen) == 32 and len(current) == 48 and set(frozen.ids) < set(current.ids)
    i, j = list(frozen.ids).index(sid), list(current.ids).index(sid)
    assert classes[frozen.emotion[i]] == before and classes[current.emotion[j]] == after
    data = load_data(TrainConfig.from_dict(config))  # what the run's training process loads
    assert classes[data.train.emotion[list(data.train.ids).index(sid)]] == before
    assert len(data.train) + (len(data.val) if data.val is not None else 0) <= 32


def test_an_unknown_snapshot_is_a_clear_error(env):
    import_tiny(env, 16)
    with pytest.raises(LookupError, match="no snapshot named 'gone'"):
        load_data(tiny_config(snapshot="gone"))
