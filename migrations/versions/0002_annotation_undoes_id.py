"""undo as a column: annotations.undoes_id (moved out of the raw JSON); undo rows are never the head

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 17:10:00

Before: an undo was a row with raw = {"undo": <id>} (plus, for re-derived rows, the rules), and a
human undo row became the sample's head (cur_annotation_id). After: `undoes_id` names the undone
row, raw keeps only the original values, and the head is the newest row of the best source that
carries a value and is not undone (so an undone edit no longer reads as a human label).

SQLite rebuilds `annotations` to add the foreign key (batch mode); core.store.db.migrate runs
migrations with foreign keys off and checks them all before the commit.
"""
from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FK = "fk_annotations_undoes_id_annotations"
VALUES = ("emotion", "valence", "arousal", "stress")
RANK = "CASE a.source WHEN 'human' THEN 2 WHEN 'imported' THEN 1 ELSE 0 END"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _rewrite_raw(where: str, change: Callable[[dict, int | None], tuple[dict | None, int | None]]) -> None:
    """Apply change(raw, undoes_id) -> (raw, undoes_id) to the annotations matching `where`."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, raw, undoes_id FROM annotations WHERE {where}")).all()
    stmt = sa.text("UPDATE annotations SET raw = :raw, undoes_id = :undoes WHERE id = :id")
    updates = []
    for aid, raw, undoes in rows:
        raw = json.loads(raw) if isinstance(raw, str) else raw
        new_raw, new_undoes = change(dict(raw or {}), undoes)
        updates.append({"id": aid, "undoes": new_undoes,
                        "raw": None if new_raw is None else json.dumps(new_raw)})
    for i in range(0, len(updates), 5000):
        bind.execute(stmt, updates[i:i + 5000])


def _out_of_raw(raw: dict, _undoes: int | None) -> tuple[dict | None, int | None]:
    target = raw.pop("undo", None)
    return (raw or None), (int(target) if target is not None else None)


def _into_raw(raw: dict, undoes: int | None) -> tuple[dict | None, int | None]:
    raw["undo"] = undoes
    return raw, None


def _rehead(where: str) -> None:
    """Recompute head id, source and annotator of the samples matching `where` (a subquery on
    samples.cur_annotation_id) with the rule of this revision (values are unchanged)."""
    bind = op.get_bind()
    has_value = " OR ".join(f"a.{f} IS NOT NULL" for f in VALUES)
    head = (f"SELECT a.id FROM annotations a WHERE a.sample_id = :sid AND ({has_value}) "
            "AND NOT EXISTS (SELECT 1 FROM annotations u WHERE u.undoes_id = a.id) "
            f"ORDER BY {RANK} DESC, a.id DESC LIMIT 1")
    for (sid,) in bind.execute(sa.text(f"SELECT id FROM samples WHERE {where}")).all():
        new = bind.execute(sa.text(head), {"sid": sid}).scalar()
        src, who = (bind.execute(sa.text("SELECT source, annotator_id FROM annotations WHERE id = :i"),
                                 {"i": new}).one() if new is not None else (None, None))
        bind.execute(sa.text("UPDATE samples SET cur_annotation_id = :h, cur_source = :s, "
                             "cur_annotator_id = :w WHERE id = :sid"),
                     {"h": new, "s": src, "w": who, "sid": sid})


def upgrade() -> None:
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undoes_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f(FK), "annotations", ["undoes_id"], ["id"])
    raw_text = "CAST(raw AS TEXT)" if _sqlite() else "raw::text"
    _rewrite_raw(f"raw IS NOT NULL AND {raw_text} LIKE '%\"undo\"%'", _out_of_raw)
    _rehead("cur_annotation_id IN (SELECT id FROM annotations WHERE undoes_id IS NOT NULL "
            "AND source = 'human')")


def downgrade() -> None:
    _rewrite_raw("undoes_id IS NOT NULL", _into_raw)
    # the old rule: the newest human row (an undo included) is the head
    op.execute("UPDATE samples SET cur_annotation_id = (SELECT max(a.id) FROM annotations a "
               "WHERE a.sample_id = samples.id AND a.source = 'human'), cur_source = 'human' "
               "WHERE EXISTS (SELECT 1 FROM annotations a WHERE a.sample_id = samples.id "
               "AND a.source = 'human')")
    op.execute("UPDATE samples SET cur_annotator_id = (SELECT a.annotator_id FROM annotations a "
               "WHERE a.id = samples.cur_annotation_id) WHERE cur_source = 'human'")
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(FK), type_="foreignkey")
        batch_op.drop_column("undoes_id")
