"""Datasets and their taxonomies."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.store.models import Dataset, Sample
from core.taxonomy import Taxonomy, get_taxonomy


def get_or_create_dataset(session: Session, name: str, *, taxonomy: Taxonomy | None = None) -> Dataset:
    """The dataset called `name`, created with `taxonomy` (default AffectNet-8) if new."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("dataset name must be 1 to 200 characters")
    ds = session.scalar(select(Dataset).where(Dataset.name == name))
    if ds is None:
        ds = Dataset(name=name, taxonomy=(taxonomy or get_taxonomy()).to_dict())
        session.add(ds)
        session.flush()
    elif taxonomy is not None and list(taxonomy.classes) != ds.taxonomy["classes"]:
        raise ValueError(f"dataset {name!r} uses taxonomy {ds.taxonomy['name']} "
                         f"({', '.join(ds.taxonomy['classes'])}), not {taxonomy.name}")
    return ds


def has_samples(session: Session, name: str) -> bool:
    """Whether dataset `name` exists and has a sample (two indexed lookups, cheap on a big store)."""
    ds = session.scalar(select(Dataset.id).where(Dataset.name == name))
    return ds is not None and session.scalar(select(Sample.id).where(Sample.dataset_id == ds).limit(1)) is not None


def require_dataset(session: Session, name: str) -> Dataset:
    ds = session.scalar(select(Dataset).where(Dataset.name == name))
    if ds is None:
        known = session.scalars(select(Dataset.name).order_by(Dataset.name)).all()
        raise LookupError(f"no dataset named {name!r} (known: {', '.join(known) or 'none'})")
    return ds


def dataset_taxonomy(ds: Dataset) -> Taxonomy:
    return get_taxonomy(ds.taxonomy["name"], ds.taxonomy["classes"])


def list_datasets(session: Session) -> list[dict]:
    """Every dataset with its sample and labelled counts."""
    counts = dict(session.execute(select(Sample.dataset_id, func.count()).group_by(Sample.dataset_id)).all())
    labelled = dict(session.execute(select(Sample.dataset_id, func.count())
                                    .where(Sample.cur_emotion.is_not(None))
                                    .group_by(Sample.dataset_id)).all())
    return [{"id": d.id, "name": d.name, "taxonomy": d.taxonomy["name"],
             "classes": d.taxonomy["classes"], "samples": counts.get(d.id, 0),
             "labelled": labelled.get(d.id, 0), "created_at": d.created_at}
            for d in session.scalars(select(Dataset).order_by(Dataset.id))]
