"""Feature vectors stored aligned to one declared column list per kind, NaN where a file lacked a column.

A kind's names only grow (new columns are appended); when an import adds names, the kind's
stored vectors are padded with NaN in the same transaction, so every vector of a kind has the
kind's length and value i always belongs to name i, whatever order or subset a file had.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from core.ingest.records import PendingSample
from core.store.models import Feature, FeatureKind

INSERT_CHUNK = 20000


def declared_names(known: Sequence[str] | None, seen: list[Sequence[str]]) -> list[str]:
    """The kind's names: the stored ones, then every new name in first-seen order."""
    names = list(known or [])
    have = set(names)
    for cols in seen:
        for name in cols:
            if name not in have:
                have.add(name)
                names.append(name)
    return names


def positions(names: list[str], cols: Sequence[str]) -> np.ndarray | None:
    """Where each of `cols` goes in a vector of `names`; None when they are `names` as is."""
    if list(cols) == names:
        return None
    pos = {n: i for i, n in enumerate(names)}
    return np.asarray([pos[c] for c in cols], np.intp)


def aligned(names: list[str], cols: Sequence[str], values: Sequence[float],
            where: np.ndarray | None = None) -> np.ndarray:
    """`values` (named by `cols`) placed at their names' positions; NaN elsewhere.
    where: positions(names, cols), when the caller has it already."""
    if len(cols) != len(values):
        raise ValueError(f"{len(values)} feature values for {len(cols)} names")
    vals = np.asarray(values, np.float32)
    if where is None and list(cols) == names:
        return vals
    out = np.full(len(names), np.nan, np.float32)
    out[positions(names, cols) if where is None else where] = vals
    return out


def _pad_stored(session: Session, kind: str, old: int, new: int) -> None:
    """Existing vectors of `kind` grow from `old` to `new` values (NaN for the new names)."""
    pad = np.full(new - old, np.nan, np.float32).tobytes()
    rows = session.execute(select(Feature.id, Feature.values).where(Feature.kind == kind)).all()
    table = Feature.__table__
    stmt = update(table).where(table.c.id == bindparam("_id")).values(values=bindparam("_v"))
    for i in range(0, len(rows), INSERT_CHUNK):
        session.connection().execute(stmt, [{"_id": fid, "_v": v + pad} for fid, v in rows[i:i + INSERT_CHUNK]])


def store_features(session: Session, pending: list[tuple[int, PendingSample]]) -> None:
    """Insert the feature vectors of new samples, each aligned to its kind's declared names."""
    seen: dict[str, dict[int, Sequence[str]]] = {}  # kind -> distinct name lists (by identity)
    for _, p in pending:
        for kind, (cols, _) in p.features.items():
            seen.setdefault(kind, {})[id(cols)] = cols
    names: dict[str, list[str]] = {}
    for kind, by_id in seen.items():
        row = session.get(FeatureKind, kind)
        names[kind] = declared_names(row.names if row else None, list(by_id.values()))
        if row is None:
            session.add(FeatureKind(kind=kind, names=names[kind]))
        elif len(names[kind]) > len(row.names):
            _pad_stored(session, kind, len(row.names), len(names[kind]))
            row.names = names[kind]
    session.flush()
    where = {(kind, i): positions(names[kind], cols) for kind, by_id in seen.items()
             for i, cols in by_id.items()}
    rows = []
    for sid, p in pending:
        for kind, (cols, values) in p.features.items():
            w = where[(kind, id(cols))]
            if w is None and len(values) == len(cols):  # the kind's own order: as it is
                vec = np.asarray(values, np.float32)
            else:
                vec = aligned(names[kind], cols, values, w)
            rows.append({"sample_id": sid, "kind": kind, "values": vec.tobytes()})
    for i in range(0, len(rows), INSERT_CHUNK):
        session.connection().execute(insert(Feature.__table__), rows[i:i + INSERT_CHUNK])
