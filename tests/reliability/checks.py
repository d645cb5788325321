"""Invariants of the label store that must hold after any concurrency or crash: shared assertions."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.config import get_settings
from core.store.current import CUR_KEYS
from core.store.db import read_session
from core.store.labels import compute_current
from core.store.models import Annotation, Sample

CACHED = CUR_KEYS  # every cached current-label column (the richer label fields included)


def sqlite_path() -> Path:
    url = get_settings().db_url
    assert url.startswith("sqlite:///"), url
    return Path(url.split("///", 1)[1])


def integrity(path: Path | None = None) -> str:
    """PRAGMA integrity_check of a SQLite file ("ok" when sound), opened read-write so a hot WAL
    left by a killed writer is recovered the way the next app start would."""
    con = sqlite3.connect(path or sqlite_path(), timeout=30)
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check")]
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        con.close()
    return "ok" if rows == ["ok"] and not fk else f"integrity {rows[:5]}, foreign keys {fk[:5]}"


def consistency_problems(db_url: str | None = None) -> list[str]:
    """Every way the store disagrees with itself: orphan annotations, a cached current label
    that differs from the one recomputed from the annotations, a head outside the sample."""
    problems = []
    with read_session(db_url) as s:
        samples = {x.id: x for x in s.scalars(select(Sample))}
        by_sample: dict[int, list[Annotation]] = {}
        for a in s.scalars(select(Annotation)):
            if a.sample_id not in samples:
                problems.append(f"orphan annotation #{a.id} of missing sample {a.sample_id}")
            by_sample.setdefault(a.sample_id, []).append(a)
        for sid, smp in samples.items():
            want = compute_current(by_sample.get(sid, []))
            got = {k: getattr(smp, k) for k in CACHED}
            if got != want:
                problems.append(f"sample {sid}: cached {got} != recomputed {want}")
    return problems


def human_chains(sample_ids: Iterable[int], db_url: str | None = None) -> dict[int, list[Annotation]]:
    """Per sample, its human annotations in id order."""
    with read_session(db_url) as s:
        rows = s.scalars(select(Annotation).where(Annotation.sample_id.in_(list(sample_ids)),
                                                  Annotation.source == "human").order_by(Annotation.id))
        out: dict[int, list[Annotation]] = {}
        for a in rows:
            out.setdefault(a.sample_id, []).append(a)
    return out


def lost_updates(applied: list[dict[str, Any]], sample_ids: Iterable[int],
                 first_heads: dict[int, int | None]) -> list[str]:
    """Problems with the applied edits: missing from the table, a fork or gap in a sample's
    chain of supersedes_id, or a current label other than the last applied edit."""
    problems = []
    chains = human_chains(sample_ids)
    stored = {a.id: a for chain in chains.values() for a in chain}
    mine = {r["id"]: r for r in applied}
    for aid, r in mine.items():
        a = stored.get(aid)
        if a is None:
            problems.append(f"applied edit #{aid} ({r['worker']}/{r['i']}) is not in the table")
        elif (a.sample_id, a.emotion, a.supersedes_id) != (r["sample"], r["emotion"], r["base"]):
            problems.append(f"edit #{aid} stored as {(a.sample_id, a.emotion, a.supersedes_id)}, "
                            f"applied as {(r['sample'], r['emotion'], r['base'])}")
    extra = sorted(set(stored) - set(mine))
    if extra:
        problems.append(f"human rows nobody applied (conflicts that were kept?): {extra[:10]}")
    with read_session() as s:
        heads = dict(s.execute(select(Sample.id, Sample.cur_annotation_id)).all())
        emotions = dict(s.execute(select(Sample.id, Sample.cur_emotion)).all())
    for sid in sample_ids:
        chain = chains.get(sid, [])
        expected_base = first_heads[sid]
        for a in chain:  # linear: each edit is based on the one before it, none skipped or forked
            if a.supersedes_id != expected_base:
                problems.append(f"sample {sid}: #{a.id} supersedes #{a.supersedes_id}, "
                                f"expected #{expected_base} (fork or lost update)")
            expected_base = a.id
        if chain and (heads[sid], emotions[sid]) != (chain[-1].id, chain[-1].emotion):
            problems.append(f"sample {sid}: current {(heads[sid], emotions[sid])} is not the last "
                            f"applied edit {(chain[-1].id, chain[-1].emotion)}")
    return problems
