"""AppTest of the Train form on the richer schemas: the tasks offered follow the dataset's label
schema (dominance and named targets where declared, no stress where the schema has none)."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(("dataset_id", "tasks", "emotion"), [
    (1, ["emotion", "va", "dominance"], "emotion (multi-label)"),
    (2, ["emotion", "va", "targets"], "emotion (distribution)"),
    (3, ["emotion", "va", "targets"], "emotion (distribution)")])
def test_train_form_offers_the_schema_tasks(app_modes, dataset_id, tasks, emotion):
    at = app_modes("train", dataset_id=dataset_id)
    assert not at.exception, at.exception
    box = at.multiselect(key="t_tasks")
    assert box.options[0] == emotion and len(box.options) == len(tasks)
    assert {n.key for n in at.number_input if n.key.startswith("t_w_")} == {f"t_w_{t}" for t in tasks}
    if dataset_id == 2:
        assert "named targets (sentiment)" in box.options
