"""Filtered pages with keyset pagination, counts and per-dataset stats."""
from __future__ import annotations

from core.store.labels import edit_label, get_or_create_annotator
from core.store.models import Sample
from core.store.queries import SampleFilter, count_samples, dataset_stats, page_samples
from tests.store.seed import seed_samples


def test_keyset_pages_cover_every_match_once(write, read):
    with write() as s, s.begin():
        ds = seed_samples(s, 100, labelled=0.8)
    flt = SampleFilter(dataset_id=ds.id, emotions=["Happy", "Sad"])
    seen, after = [], None
    with read() as s:
        while page := page_samples(s, flt, limit=7, after_id=after):
            seen += [x.id for x in page]
            after = page[-1].id
        total = count_samples(s, flt)
        back = page_samples(s, flt, limit=7, before_id=seen[10])
    assert len(seen) == len(set(seen)) == total > 0
    assert [x.id for x in back] == seen[3:10]


def test_filters_combine(write, read):
    with write() as s, s.begin():
        ds = seed_samples(s, 80, labelled=0.75)
        edit_label(s, 3, base_annotation_id=s.get(Sample, 3).cur_annotation_id,
                   annotator="ana", emotion="Anger", valence=0.9)
        ana = get_or_create_annotator(s, "ana").id
    with read() as s:
        rows = page_samples(s, SampleFilter(dataset_id=ds.id, valence=(0.0, 1.0), quality=(0.2, 0.9)), limit=500)
        assert rows and all(0 <= r.cur_valence <= 1 and 0.2 <= r.quality <= 0.9 for r in rows)
        human = page_samples(s, SampleFilter(dataset_id=ds.id, sources=["human"], annotator_id=ana))
        assert [r.id for r in human] == [3]
        unl = page_samples(s, SampleFilter(dataset_id=ds.id, emotions=["none"]), limit=500)
        assert unl and all(r.cur_emotion is None for r in unl)
        assert count_samples(s, SampleFilter(dataset_id=ds.id), cap=10) == 10
        assert count_samples(s, SampleFilter(dataset_id=ds.id, has_prediction=True)) == 0
        picked = page_samples(s, SampleFilter(dataset_id=ds.id, sample_ids=[5, 9, 11]))
        assert [r.id for r in picked] == [5, 9, 11]


def test_stats_count_by_split_emotion_source(write, read):
    with write() as s, s.begin():
        ds = seed_samples(s, 16)
    with read() as s:
        st = dataset_stats(s, ds.id)
    assert st["samples"] == st["labelled"] == 16
    assert st["by_emotion"]["Happy"] == 2 and st["by_source"] == {"imported": 16}
    assert st["emotion_by_split"]["none"]["Contempt"] == 2
