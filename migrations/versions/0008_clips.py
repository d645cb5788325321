"""clips: a clip sample's media, time range, sampling rule, frame indices, face mask, stacked crops, audio flag

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 21:10:00

A new table only: a clip is a Sample (its labels and history are the samples' own), so existing
rows are untouched. Downgrade drops the table (the clip samples stay as plain samples).
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clips',
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=True),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('frames', sa.Integer(), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('frame_indices', sa.JSON(), nullable=False),
    sa.Column('mask', sa.JSON(), nullable=False),
    sa.Column('crops_sha256', sa.String(length=64), nullable=False),
    sa.Column('crops_path', sa.String(length=300), nullable=False),
    sa.Column('has_audio', sa.Boolean(), nullable=False),
    sa.Column('arrays', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], name=op.f('fk_clips_media_id_media')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_clips_sample_id_samples'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sample_id', name=op.f('pk_clips')),
    )
    op.create_index('ix_clips_media', 'clips', ['media_id'])


def downgrade() -> None:
    op.drop_index('ix_clips_media', table_name='clips')
    op.drop_table('clips')
