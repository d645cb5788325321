"""runs.submitted_by, jobs.submitted_by: who queued the row (the per-identity job cap, core.limits)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 19:05:00

Existing rows keep NULL (queued by the local operator before the cap existed; never counted).
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('runs', 'jobs'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('submitted_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    for table in ('jobs', 'runs'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('submitted_by')
