"""Datasets, their taxonomies and label schemas."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import Identity, Role, require
from core.label_schema import BUILTIN_CLASSES, LabelSchema
from core.store.models import Dataset, Sample
from core.store.schema_check import orphaned_labels
from core.taxonomy import Taxonomy, get_taxonomy


def _schema_taxonomy(schema: LabelSchema) -> Taxonomy:
    return get_taxonomy(schema.class_list, list(schema.classes))


def get_or_create_dataset(session: Session, name: str, *, taxonomy: Taxonomy | None = None,
                          schema: LabelSchema | None = None) -> Dataset:
    """The dataset called `name`, created with `schema` (or single-label over `taxonomy`, default
    AffectNet-8) if new. An existing dataset given another schema takes it as `set_label_schema`
    does (refused when stored labels would not fit it)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("dataset name must be 1 to 200 characters")
    if schema is not None and taxonomy is not None and tuple(taxonomy.classes) != schema.classes:
        raise ValueError(f"taxonomy {taxonomy.name} and the label schema name different classes")
    ds = session.scalar(select(Dataset).where(Dataset.name == name))
    if ds is None:
        tax = _schema_taxonomy(schema) if schema is not None else (taxonomy or get_taxonomy())
        ds = Dataset(name=name, taxonomy=tax.to_dict(), label_schema=schema.to_dict() if schema else None)
        session.add(ds)
        session.flush()
    elif schema is not None and dataset_schema(ds) != schema:
        _apply_schema(session, ds, schema)  # the caller (an import) checked the role
    elif taxonomy is not None and list(taxonomy.classes) != ds.taxonomy["classes"]:
        raise ValueError(f"dataset {name!r} uses taxonomy {ds.taxonomy['name']} "
                         f"({', '.join(ds.taxonomy['classes'])}), not {taxonomy.name}")
    return ds


def dataset_schema(ds: Dataset) -> LabelSchema:
    """The dataset's label schema; one made before schemas is single-label over its taxonomy."""
    if ds.label_schema:
        return LabelSchema.from_dict(ds.label_schema, classes=ds.taxonomy["classes"])
    name = ds.taxonomy.get("name")
    return LabelSchema(classes=tuple(ds.taxonomy["classes"]),
                       class_list=name if name in BUILTIN_CLASSES else "custom")


def set_label_schema(session: Session, name: str, schema: LabelSchema, *,
                     identity: Identity | None = None) -> Dataset:
    """Give dataset `name` a new label schema (its taxonomy follows the schema's classes).

    Refused (ValueError naming the field and an example) when a stored label would not fit it:
    an emotion mode or class it drops, dominance or stress it turns off, a target it drops or
    whose range no longer holds a stored value. Admins only (core.auth), like an import.
    """
    require(identity, Role.ADMIN, "changing a label schema")
    return _apply_schema(session, require_dataset(session, name), schema)


def _apply_schema(session: Session, ds: Dataset, schema: LabelSchema) -> Dataset:
    if problems := orphaned_labels(session, ds.id, schema):
        raise ValueError(f"dataset {ds.name!r} keeps its label schema: the new one would orphan stored "
                         f"labels: {'; '.join(problems)}")
    ds.label_schema = schema.to_dict()
    ds.taxonomy = _schema_taxonomy(schema).to_dict()
    session.flush()
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
