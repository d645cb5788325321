"""va_traces: continuous valence/arousal traces over a video, append-only per annotator and media

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 21:20:00

A new table only: existing rows are untouched. Downgrade drops the table.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('va_traces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('annotator_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('rate_hz', sa.Float(), nullable=False),
    sa.Column('n_samples', sa.Integer(), nullable=False),
    sa.Column('samples', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], name=op.f('fk_va_traces_media_id_media'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id'], name=op.f('fk_va_traces_annotator_id_annotators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_va_traces')),
    )
    op.create_index('ix_va_traces_media', 'va_traces', ['media_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_va_traces_media', table_name='va_traces')
    op.drop_table('va_traces')
