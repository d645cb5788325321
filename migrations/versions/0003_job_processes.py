"""jobs run by a worker: runs.proc (pid + create time + command line), runs.stop_reason, jobs table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 17:20:00

Existing rows keep their status values (queued, starting, running, cancelling, succeeded, failed,
cancelled: the RunStatus values). A run left running by the old page-driven queue has no `proc`:
the worker never signals it, and declares it failed once its heartbeat is stale.
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proc', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('stop_reason', sa.String(length=300), nullable=True))
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('args', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('log_path', sa.String(length=500), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('proc', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_jobs_run_id_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    op.create_index('ix_jobs_status', 'jobs', ['status', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_jobs_status', table_name='jobs')
    op.drop_table('jobs')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('stop_reason')
        batch_op.drop_column('proc')
