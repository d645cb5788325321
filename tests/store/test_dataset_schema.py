"""A dataset's label schema: stored on creation, read back, changed only when no stored label is orphaned."""
from __future__ import annotations

import pytest

from core.label_schema import LabelSchema, TargetSpec, emotic_schema, fiv2_schema, mosei_schema
from core.store.datasets import dataset_schema, get_or_create_dataset, list_datasets, set_label_schema
from core.store.labels import edit_label
from core.store.models import Sample
from core.taxonomy import FER7, get_taxonomy
from tests.store.seed import seed_rich, seed_samples


@pytest.mark.parametrize("make", [emotic_schema, mosei_schema, fiv2_schema])
def test_schema_is_stored_and_read_back(write, read, make):
    with write() as s, s.begin():
        ds = get_or_create_dataset(s, "x", schema=make())
        assert get_or_create_dataset(s, "x", schema=make()).id == ds.id  # same schema: same dataset
    with read() as s:
        ds = get_or_create_dataset(s, "x")
        assert dataset_schema(ds) == make() and ds.taxonomy["classes"] == list(make().classes)
        assert [d["classes"] for d in list_datasets(s)] == [list(make().classes)]


def test_a_dataset_without_schema_is_single_label_over_its_taxonomy(write, read):
    with write() as s, s.begin():
        ds = get_or_create_dataset(s, "old", taxonomy=get_taxonomy("fer7"))
        schema = dataset_schema(ds)
    assert ds.label_schema is None
    assert (schema.emotion_mode, schema.classes, schema.class_list) == ("single", tuple(FER7), "fer7")
    assert schema.stress and not schema.dominance and schema.targets == ()


def test_a_change_that_orphans_stored_labels_is_refused(write, read):
    with write() as s, s.begin():
        seed_samples(s, 6, dataset="single")
        seed_rich(s, fiv2_schema(), 4, dataset="traits")
    with pytest.raises(ValueError, match="orphan.*emotion mode 'single'"):
        with write() as s, s.begin():
            set_label_schema(s, "single", emotic_schema())
    narrow = LabelSchema(classes=("extraversion",), targets=(TargetSpec("openness", 0, 0.01),))
    with pytest.raises(ValueError, match=r"openness values span .* outside \[0, 0.01\].*"
                                         "|target 'agreeableness' is not declared"):
        with write() as s, s.begin():
            set_label_schema(s, "traits", narrow)
    with read() as s:
        assert dataset_schema(get_or_create_dataset(s, "traits")) == fiv2_schema()
    with pytest.raises(ValueError, match="orphan"):  # an importer asking for another schema
        with write() as s, s.begin():
            get_or_create_dataset(s, "single", schema=mosei_schema())


def test_a_compatible_change_is_kept(write, read):
    with write() as s, s.begin():
        seed_rich(s, mosei_schema(), 4, dataset="m")
    more = LabelSchema(classes=mosei_schema().classes, emotion_mode="distribution", class_list="mosei6",
                       stress=False, dominance=True,
                       targets=(TargetSpec("sentiment", -3, 3), TargetSpec("humour", 0, 1)))
    with write() as s, s.begin():
        set_label_schema(s, "m", more)
    with write() as s, s.begin():
        smp = s.get(Sample, 1)
        edit_label(s, 1, base_annotation_id=smp.cur_annotation_id, annotator="ana", targets={"humour": 0.5},
                   dominance=0.25)
    with read() as s:
        assert dataset_schema(get_or_create_dataset(s, "m")) == more
        assert s.get(Sample, 1).cur_targets["humour"] == 0.5


def test_schema_and_taxonomy_must_agree(write):
    with pytest.raises(ValueError, match="different classes"):
        with write() as s, s.begin():
            get_or_create_dataset(s, "x", taxonomy=get_taxonomy("fer7"), schema=emotic_schema())


def test_only_an_admin_changes_a_schema(write, read):
    from core.auth import AccessDenied, Identity, Role

    with write() as s, s.begin():
        get_or_create_dataset(s, "x")
    for role in (Role.VIEWER, Role.ANNOTATOR):
        with pytest.raises(AccessDenied, match="changing a label schema needs the admin role"):
            with write() as s, s.begin():
                set_label_schema(s, "x", emotic_schema(), identity=Identity("eve", role, True))
    with write() as s, s.begin():
        set_label_schema(s, "x", emotic_schema(), identity=Identity("root", Role.ADMIN, True))
    with read() as s:
        assert dataset_schema(get_or_create_dataset(s, "x")) == emotic_schema()
