"""Filters on richer labels: multi-label category and dominant class (sample_categories keyset
pages), dominance and named-target ranges, and the per-dataset category counts."""
from __future__ import annotations

from sqlalchemy import text

from core.label_schema import LabelSchema, TargetSpec, emotic_schema, mosei_schema
from core.store.labels import edit_label
from core.store.models import Sample
from core.store.queries import SampleFilter, _filtered, count_samples, dataset_stats, page_samples
from tests.store.seed import seed_rich


def _all_pages(read, flt: SampleFilter, limit: int = 5) -> list[int]:
    seen, after = [], None
    with read() as s:
        while page := page_samples(s, flt, limit=limit, after_id=after):
            seen += [x.id for x in page]
            after = page[-1].id
    return seen


def test_category_pages_cover_every_match_once_in_id_order(write, read):
    with write() as s, s.begin():
        ds = seed_rich(s, emotic_schema(), 120)
        other = seed_rich(s, emotic_schema(), 30, dataset="other", seed=1)
    flt = SampleFilter(dataset_id=ds.id, categories=["Anger"])
    seen = _all_pages(read, flt, limit=2)
    with read() as s:
        want = [x.id for x in s.query(Sample).filter(Sample.dataset_id == ds.id).order_by(Sample.id)
                if "Anger" in (x.cur_emotions or [])]
        assert seen == want and len(want) == count_samples(s, flt) > 3
        back = page_samples(s, flt, limit=2, before_id=seen[3])
        assert [x.id for x in back] == seen[1:3]
        both = _all_pages(read, SampleFilter(dataset_id=ds.id, categories=["Anger", "Pain"]))
        assert set(seen) < set(both) and both == sorted(both)
        assert all(x.dataset_id == other.id for x in page_samples(s, SampleFilter(dataset_id=other.id,
                                                                                  categories=["Anger"])))


def test_category_filter_follows_edits_and_combines_with_other_filters(write, read):
    with write() as s, s.begin():
        ds = seed_rich(s, emotic_schema(), 30)
        smp = s.get(Sample, 3)  # "none of the classes"
        edit_label(s, 3, base_annotation_id=smp.cur_annotation_id, annotator="ana", emotions=["Yearning"])
    flt = SampleFilter(dataset_id=ds.id, categories=["Yearning"])
    assert _all_pages(read, flt) == [3, 26]
    with read() as s:
        assert [x.id for x in page_samples(s, SampleFilter(dataset_id=ds.id, categories=["Yearning"],
                                                           sources=["human"]))] == [3]
        dom = next(x for x in page_samples(s, flt)).cur_dominance
        rows = page_samples(s, SampleFilter(dataset_id=ds.id, categories=["Yearning"], dominance=(dom, dom)))
        assert [x.id for x in rows] == [3]


def test_dominant_class_of_a_distribution_is_a_filter(write, read):
    with write() as s, s.begin():
        ds = seed_rich(s, mosei_schema(), 24)
    with read() as s:
        rows = page_samples(s, SampleFilter(dataset_id=ds.id, categories=["Sad"]), limit=100)
        st = dataset_stats(s, ds.id)
    assert rows and all(max(x.cur_distribution, key=x.cur_distribution.get) == "Sad" for x in rows)
    assert sum(st["by_category"].values()) == 16  # every third sample has "no emotion"
    assert st["coverage"]["distribution"] == 24 and st["coverage"]["targets"] == 24


def test_named_target_and_dominance_ranges(write, read):
    schema = LabelSchema(classes=("a", "b"), emotion_mode="multi", dominance=True,
                         targets=(TargetSpec("openness"), TargetSpec("pain", 0, 10)))
    with write() as s, s.begin():
        ds = seed_rich(s, schema, 40)
    with read() as s:
        rows = page_samples(s, SampleFilter(dataset_id=ds.id, targets={"openness": (0.25, 0.5), "pain": (2, 10)},
                                            dominance=(-0.5, 1.0)), limit=100)
        every = page_samples(s, SampleFilter(dataset_id=ds.id), limit=100)
    want = [x.id for x in every if 0.25 <= x.cur_targets["openness"] <= 0.5 and x.cur_targets["pain"] >= 2
            and -0.5 <= x.cur_dominance <= 1.0]
    assert [x.id for x in rows] == want and want


def test_a_category_page_is_an_index_range_scan(write, read):
    with write() as s, s.begin():
        ds = seed_rich(s, emotic_schema(), 10)
    with read() as s:
        if s.get_bind().dialect.name != "sqlite":
            return  # the plan check is SQLite's EXPLAIN QUERY PLAN; PostgreSQL runs the other tests
        stmt, key = _filtered(SampleFilter(dataset_id=ds.id, categories=["Anger"]))
        sql = stmt.where(key > 0).order_by(key).limit(48).compile(compile_kwargs={"literal_binds": True})
        plan = " | ".join(r[-1] for r in s.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "sample_categories USING PRIMARY KEY" in plan or "USING COVERING INDEX" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the keyset order is the index order
