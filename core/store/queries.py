"""Filtered, paginated sample queries and per-dataset statistics (index-backed, never the whole table)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from core.store.current import FIELDS
from core.store.models import Annotation, Annotator, Dataset, Run, Sample, SampleCategory

Range = tuple[float, float]


@dataclass
class SampleFilter:
    dataset_id: int | None = None
    splits: list[str] | None = None  # "none" matches samples without a split
    emotions: list[str] | None = None  # "none" matches unlabelled samples
    sources: list[str] | None = None  # source of the head annotation: human/imported/derived
    annotator_id: int | None = None
    valence: Range | None = None
    arousal: Range | None = None
    quality: Range | None = None
    has_prediction: bool | None = None
    disagreement: bool = False  # the latest prediction's emotion differs from the current label
    sample_ids: list[int] | None = None  # e.g. points selected on a plot
    # richer labels (core.label_schema): any of these current multi-label categories or dominant
    # classes of the distribution (sample_categories; needs dataset_id), dominance, named targets
    categories: list[str] | None = None
    dominance: Range | None = None
    targets: dict[str, Range] | None = None  # target name -> (low, high)

    def where(self, *, categories: bool = True) -> list[Any]:
        """The conditions; `categories=False` leaves the category filter to a join (page_samples)."""
        conds: list[Any] = []
        if self.dataset_id is not None:
            conds.append(Sample.dataset_id == self.dataset_id)
        for col, values in ((Sample.split, self.splits), (Sample.cur_emotion, self.emotions)):
            if values:
                named = [v for v in values if v != "none"]
                opts = [col.in_(named)] if named else []
                if "none" in values:
                    opts.append(col.is_(None))
                conds.append(opts[0] if len(opts) == 1 else opts[0] | opts[1])
        if self.sources:
            conds.append(Sample.cur_source.in_(self.sources))
        if self.annotator_id is not None:
            conds.append(Sample.cur_annotator_id == self.annotator_id)
        for col, rng in ((Sample.cur_valence, self.valence), (Sample.cur_arousal, self.arousal),
                         (Sample.quality, self.quality), (Sample.cur_dominance, self.dominance)):
            if rng is not None:
                conds.append(col.between(float(rng[0]), float(rng[1])))
        for name, rng in (self.targets or {}).items():
            conds.append(Sample.cur_targets[name].as_float().between(float(rng[0]), float(rng[1])))
        if self.categories and categories:
            conds.append(exists().where(SampleCategory.dataset_id == Sample.dataset_id,
                                        SampleCategory.category.in_(self.categories),
                                        SampleCategory.sample_id == Sample.id))
        if self.has_prediction is not None:
            conds.append(Sample.has_prediction.is_(self.has_prediction))
        if self.disagreement:
            conds += [Sample.pred_emotion.is_not(None), Sample.cur_emotion.is_not(None),
                      Sample.pred_emotion != Sample.cur_emotion]
        if self.sample_ids is not None:
            conds.append(Sample.id.in_(self.sample_ids))
        return conds


def _category_scan(flt: SampleFilter) -> tuple[list[Any], list[Any]] | None:
    """For one category of one dataset: the sample_categories conditions (its primary-key range)
    and the remaining sample conditions; None for other filters."""
    if not (flt.categories and len(flt.categories) == 1 and flt.dataset_id is not None):
        return None
    rest = replace(flt, dataset_id=None, categories=None).where()  # the dataset is in the key
    return [SampleCategory.dataset_id == flt.dataset_id, SampleCategory.category == flt.categories[0]], rest


def _filtered(flt: SampleFilter) -> tuple[Select, Any]:
    """The page query and the column its keyset runs on.

    One category of one dataset: driven by sample_categories' primary key (dataset, category,
    sample id), joined to samples by id, so a page is an index range scan however rare the
    category; otherwise samples by id under the equality indexes.
    """
    if (scan := _category_scan(flt)) is not None:
        key, rest = scan
        stmt = select(Sample).join(SampleCategory, SampleCategory.sample_id == Sample.id).where(*key, *rest)
        return stmt, SampleCategory.sample_id
    conds = flt.where()
    return (select(Sample).where(and_(*conds)) if conds else select(Sample)), Sample.id


def page_samples(session: Session, flt: SampleFilter, *, limit: int = 48, after_id: int | None = None,
                 before_id: int | None = None, offset: int | None = None) -> list[Sample]:
    """One page ordered by id: keyset (after_id / before_id) or, for jumps, offset."""
    limit = max(1, min(int(limit), 1000))
    stmt, key = _filtered(flt)
    if before_id is not None:
        rows = session.scalars(stmt.where(key < before_id).order_by(key.desc()).limit(limit))
        return list(reversed(list(rows)))
    if after_id is not None:
        stmt = stmt.where(key > after_id)
    stmt = stmt.order_by(key).limit(limit)
    if offset:
        stmt = stmt.offset(int(offset))
    return list(session.scalars(stmt))


def count_samples(session: Session, flt: SampleFilter, *, cap: int | None = None) -> int:
    """How many samples match; with `cap`, counting stops there (cheap for huge tables)."""
    scan = _category_scan(flt)
    if scan is not None and not scan[1]:  # a category alone: counted in its index range only
        inner = select(SampleCategory.sample_id).where(*scan[0])
    else:
        inner = _filtered(flt)[0].with_only_columns(Sample.id)
    if cap is not None:
        inner = inner.limit(cap)
    return int(session.scalar(select(func.count()).select_from(inner.subquery())) or 0)


def dataset_stats(session: Session, dataset_id: int) -> dict[str, Any]:
    """Samples, labelled, counts by emotion, split, source, emotion x split, coverage per task.

    One grouped scan of the dataset's samples (every number comes from the same pass).
    """
    rows = session.execute(
        select(Sample.split, Sample.cur_emotion, Sample.cur_source, func.count(),
               func.count(Sample.cur_valence), func.count(Sample.cur_stress),
               func.count(Sample.pred_emotion), func.count(Sample.flag), func.count(Sample.cur_emotions),
               func.count(Sample.cur_distribution), func.count(Sample.cur_dominance),
               func.count(Sample.cur_targets))
        .where(Sample.dataset_id == dataset_id)
        .group_by(Sample.split, Sample.cur_emotion, Sample.cur_source)).all()
    by_emotion: dict[str, int] = {}
    by_split: dict[str, int] = {}
    by_source: dict[str, int] = {}
    table: dict[str, dict[str, int]] = {}
    coverage = dict.fromkeys(("emotion", "valence/arousal", "stress"), 0)  # labels only
    rich = dict.fromkeys(("emotions", "distribution", "dominance", "targets"), 0)
    total = flagged = predicted = 0
    for split, emotion, source, n, n_va, n_stress, n_pred, n_flag, *n_rich in rows:
        split, emotion, source = split or "none", emotion or "none", source or "none"
        total += n
        flagged += n_flag
        by_emotion[emotion] = by_emotion.get(emotion, 0) + n
        by_split[split] = by_split.get(split, 0) + n
        by_source[source] = by_source.get(source, 0) + n
        table.setdefault(split, {})[emotion] = table.get(split, {}).get(emotion, 0) + n
        coverage["emotion"] += n if emotion != "none" else 0
        coverage["valence/arousal"] += n_va
        coverage["stress"] += n_stress
        predicted += n_pred
        for key, count in zip(rich, n_rich):
            rich[key] += count
    coverage.update({k: v for k, v in rich.items() if v})  # only the fields the dataset has
    by_category = dict(session.execute(
        select(SampleCategory.category, func.count()).where(SampleCategory.dataset_id == dataset_id)
        .group_by(SampleCategory.category)).all())
    return {"samples": total, "labelled": total - by_emotion.get("none", 0),
            "by_emotion": by_emotion, "by_split": by_split, "by_source": by_source,
            "emotion_by_split": table, "flagged": flagged, "coverage": coverage,
            "predicted": predicted, "by_category": by_category}


def recent_edits(session: Session, *, limit: int = 10) -> list[dict[str, Any]]:
    """The newest human annotations: who, when, which sample, what. An undo row says which
    edit it undid and shows the values that are current again (those the undone edit replaced)."""
    rows = session.execute(
        select(Annotation, Annotator.name, Dataset.name).join(Annotator, Annotation.annotator_id == Annotator.id)
        .join(Sample, Sample.id == Annotation.sample_id).join(Dataset, Dataset.id == Sample.dataset_id)
        .where(Annotation.source == "human").order_by(Annotation.id.desc()).limit(limit)).all()
    undone = {a.undoes_id for a, _, _ in rows if a.undoes_id}
    targets = {a.id: a for a in session.scalars(select(Annotation).where(Annotation.id.in_(undone)))}
    before_ids = {t.supersedes_id for t in targets.values() if t.supersedes_id}
    before = {a.id: a for a in session.scalars(select(Annotation).where(Annotation.id.in_(before_ids)))}
    out = []
    for a, who, ds_name in rows:
        shown, action = a, "edit"
        if a.undoes_id:
            target = targets.get(a.undoes_id)
            shown = before.get(target.supersedes_id) if target and target.supersedes_id else None
            action = f"undo of #{a.undoes_id}" + ("" if shown else " (no earlier label)")
        out.append({"when": a.created_at, "who": who, "dataset": ds_name, "sample": a.sample_id,
                    "action": action, **{f: getattr(shown, f) if shown else None for f in FIELDS},
                    "note": a.note})
    return out


def recent_runs(session: Session, *, limit: int = 10) -> list[dict[str, Any]]:
    """The newest training runs: id, name, status, best score (None until one exists)."""
    runs = session.scalars(select(Run).order_by(Run.id.desc()).limit(limit))
    return [{"id": r.id, "name": r.name, "status": r.status,
             "best score": ((r.metrics or {}).get("best") or {}).get("score")} for r in runs]


def list_annotators(session: Session) -> list[dict[str, Any]]:
    """Every annotator (id, name), by name."""
    return [{"id": a.id, "name": a.name} for a in session.scalars(select(Annotator).order_by(Annotator.name))]
