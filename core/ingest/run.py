"""Runs one import: parse every row, refuse or skip bad rows, then store all good ones in one transaction."""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.auth import Identity, Role, require
from core.config import get_settings
from core.ingest.clip_csv import clip_csv_schema, parse_clip_csv
from core.ingest.clip_import import parse_crema_d, parse_enterface, parse_ravdess
from core.ingest.commit import commit_samples
from core.ingest.context import ImportContext
from core.ingest.csv_import import parse_csv
from core.ingest.emotic_import import parse_emotic
from core.ingest.fiv2_import import parse_fiv2
from core.ingest.folder_import import parse_fer2013, parse_folder
from core.ingest.mafw_import import mafw_schema_for, parse_mafw
from core.ingest.media_import import parse_images, parse_video
from core.ingest.mosei_import import parse_mosei
from core.ingest.openface_import import parse_openface
from core.ingest.records import ImportFailed, ImportReport, PendingSample, RowError
from core.ingest.rich_columns import read_table_schema
from core.label_schema import LabelSchema, emotic_schema, fiv2_schema, mosei_schema
from core.rules import DerivationRules
from core.store.datasets import dataset_schema, dataset_taxonomy, get_or_create_dataset
from core.store.db import get_engine, optimize, read_session, write_session
from core.store.errors import store_error
from core.store.models import Dataset, Media
from core.store.schema_check import orphaned_labels
from core.taxonomy import Taxonomy, get_taxonomy

Parser = Callable[[Path, ImportContext], Iterator[PendingSample | RowError]]
PARSERS: dict[str, Parser] = {"csv": parse_csv, "folder": parse_folder, "fer2013": parse_fer2013,
                              "openface": parse_openface, "video": parse_video, "images": parse_images,
                              "emotic": parse_emotic, "mosei": parse_mosei, "fiv2": parse_fiv2,
                              "crema-d": parse_crema_d, "ravdess": parse_ravdess, "enterface": parse_enterface,
                              "clip-csv": parse_clip_csv, "mafw": parse_mafw}
# the label schema a kind's dataset gets (the other kinds: single-label over the taxonomy)
SCHEMAS: dict[str, Callable[[], LabelSchema]] = {"emotic": emotic_schema, "mosei": mosei_schema,
                                                 "fiv2": fiv2_schema}


def register_parser(kind: str, parser: Parser) -> None:
    PARSERS[kind] = parser


def _taxonomy_for(session: Session, dataset: str, taxonomy: Taxonomy | None) -> Taxonomy | None:
    """The dataset's own taxonomy; asking for a different one on an existing dataset is an error."""
    ds = session.scalar(select(Dataset).where(Dataset.name == dataset))
    if ds is None:
        return taxonomy
    own = dataset_taxonomy(ds)
    if taxonomy is not None and tuple(taxonomy.classes) != own.classes:
        raise ValueError(f"dataset {dataset!r} uses taxonomy {own.name} ({', '.join(own.classes)}); "
                         f"it cannot import with {taxonomy.name}")
    return own


def _check_schema(session: Session, dataset: str, schema: LabelSchema | None) -> None:
    """Before parsing: an existing dataset whose stored labels the kind's schema would orphan is refused."""
    ds = session.scalar(select(Dataset).where(Dataset.name == dataset))
    if schema is None or ds is None or dataset_schema(ds) == schema:
        return
    if problems := orphaned_labels(session, ds.id, schema):
        raise ValueError(f"dataset {dataset!r} has another label schema and its stored labels do not fit "
                         f"this format's: {'; '.join(problems)}; import into a new dataset")


def _conflicting_duplicates(pending: list[PendingSample]) -> list[RowError]:
    """The same image twice in one import with different labels is ambiguous: an error."""
    first: dict[str, PendingSample] = {}
    errors = []
    fields = ("emotion", "valence", "arousal", "stress", "emotions", "distribution", "dominance", "targets")
    for p in pending:
        seen = first.setdefault(p.crop_sha256, p)
        if seen is not p and any(getattr(seen, f) != getattr(p, f) for f in fields):
            errors.append(RowError(p.source_path, None, "emotion",
                                   f"same image content as {seen.source_path} but a different label"))
    return errors


def import_path(kind: str, path: str | Path, *, dataset: str, taxonomy: Taxonomy | None = None,
                skip_invalid: bool = False, rules: DerivationRules | None = None,
                options: dict[str, Any] | None = None,
                progress: Callable[[int, int | None], None] | None = None,
                db_url: str | None = None, identity: Identity | None = None) -> ImportReport:
    """Import `path` with the `kind` parser into `dataset`.

    All-or-nothing unless `skip_invalid`: any bad row raises ImportFailed and nothing is stored.
    Admins only (core.auth; the command line runs as the local operator).
    """
    require(identity, Role.ADMIN, "importing data")
    if kind not in PARSERS:
        raise ValueError(f"unknown import kind {kind!r}; one of {', '.join(sorted(PARSERS))}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    started = time.perf_counter()
    rules = DerivationRules() if rules is None else rules
    # an exported table brings its dataset's label schema (core.ingest.rich_columns)
    schema = (SCHEMAS[kind]() if kind in SCHEMAS else read_table_schema(path) if kind == "csv"
              else clip_csv_schema(path, taxonomy or get_taxonomy()) if kind == "clip-csv" and path.is_file()
              else mafw_schema_for(path) if kind == "mafw" else None)
    with read_session(db_url) as s:
        _check_schema(s, dataset, schema)
        tax = (get_taxonomy(schema.class_list, list(schema.classes)) if schema is not None
               else _taxonomy_for(s, dataset, taxonomy))
    ctx = ImportContext(root=path if path.is_dir() else path.parent, taxonomy=tax or get_taxonomy(),
                        options=dict(options or {}), progress=progress)
    report = ImportReport(dataset=dataset, kind=kind, path=str(path))
    pending: list[PendingSample] = []
    try:
        ctx.blobs.hold()  # before the first look at the crop store, until the commit
        for item in PARSERS[kind](path, ctx):
            if isinstance(item, RowError):
                report.errors.append(item)
            else:
                pending.append(item)
        report.rows = ctx.done
        report.errors += _conflicting_duplicates(pending)
        if report.errors and not skip_invalid:
            raise ImportFailed(report)
        try:
            with write_session(db_url) as s, s.begin():
                ds = get_or_create_dataset(s, dataset, taxonomy=None if schema else ctx.taxonomy, schema=schema)
                _store_media(s, ctx.media)
                counts = commit_samples(s, ds, pending, rules=rules)
        except (DBAPIError, sqlite3.Error) as exc:  # disk full, read-only store: rolled back
            raise store_error(exc, db_url or get_settings().db_url) from None
    except BaseException:
        ctx.blobs.discard_new(db_url=db_url)  # only files no committed row references
        raise
    # skipped rows may have stored a crop before their label failed: drop those orphans
    ctx.blobs.discard_new(keep={p.crop_sha256 for p in pending} | {m["sha256"] for m in ctx.media},
                          db_url=db_url)
    if counts["added"] > 1000:
        optimize(get_engine(db_url))
    report.added, report.existing = counts["added"], counts["existing"]
    report.relabelled = counts["relabelled"]
    report.flagged = sum(1 for p in pending if p.flag)
    report.skipped = dict(ctx.skipped)
    report.warnings = list(ctx.warnings)
    report.seconds = time.perf_counter() - started
    return report


def _store_media(session: Session, media: list[dict[str, Any]]) -> None:
    if not media:
        return
    known = set(session.scalars(select(Media.sha256).where(Media.sha256.in_([m["sha256"] for m in media]))))
    fresh = {m["sha256"]: m for m in media if m["sha256"] not in known}
    if fresh:
        session.execute(insert(Media), list(fresh.values()))
