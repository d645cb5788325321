"""label_tasks, task_samples, task_labels (several annotators per sample); snapshots, snapshot_labels

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 20:40:00

New tables only: existing labels are untouched (a store without tasks behaves as before).
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('label_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('annotators', sa.JSON(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_label_tasks_dataset_id_datasets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_tasks')),
    sa.UniqueConstraint('dataset_id', 'name', name='uq_label_tasks_dataset_name'),
    )
    op.create_table('task_samples',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_task_samples_sample_id_samples'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['label_tasks.id'], name=op.f('fk_task_samples_task_id_label_tasks'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'sample_id', name=op.f('pk_task_samples')),
    )
    op.create_table('task_labels',
    sa.Column('annotation_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('annotator_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotations.id'],
                            name=op.f('fk_task_labels_annotation_id_annotations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id'],
                            name=op.f('fk_task_labels_annotator_id_annotators')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_task_labels_sample_id_samples'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['label_tasks.id'], name=op.f('fk_task_labels_task_id_label_tasks'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('annotation_id', name=op.f('pk_task_labels')),
    )
    op.create_index('ix_task_labels_task_sample', 'task_labels', ['task_id', 'sample_id'])
    op.create_index('ix_task_labels_task_annotator', 'task_labels', ['task_id', 'annotator_id', 'sample_id'])
    op.create_index('ix_task_labels_sample', 'task_labels', ['sample_id'])
    op.create_table('snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('labelled', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_snapshots_dataset_id_datasets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshots')),
    sa.UniqueConstraint('dataset_id', 'name', name='uq_snapshots_dataset_name'),
    )
    op.create_table('snapshot_labels',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('annotation_ids', sa.JSON(), nullable=False),
    sa.Column('label', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['head_id'], ['annotations.id'], name=op.f('fk_snapshot_labels_head_id_annotations')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_snapshot_labels_sample_id_samples'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'],
                            name=op.f('fk_snapshot_labels_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'sample_id', name=op.f('pk_snapshot_labels')),
    )


def downgrade() -> None:
    op.drop_table('snapshot_labels')
    op.drop_table('snapshots')
    op.drop_index('ix_task_labels_sample', table_name='task_labels')
    op.drop_index('ix_task_labels_task_annotator', table_name='task_labels')
    op.drop_index('ix_task_labels_task_sample', table_name='task_labels')
    op.drop_table('task_labels')
    op.drop_table('task_samples')
    op.drop_table('label_tasks')
