"""label schema: datasets.label_schema, multi-label/distribution/dominance/targets labels, sample_categories

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 20:30:00

Additive: every new column is nullable, so existing rows keep their labels unchanged (a dataset
without a schema is single-label over its taxonomy's classes, as before). Downgrade drops the new
columns and table (the richer labels stored meanwhile are lost; the single-label ones are kept).
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NEW_COLUMNS = {
    'annotations': [('emotions', sa.JSON), ('distribution', sa.JSON), ('dominance', sa.Float),
                    ('targets', sa.JSON)],
    'samples': [('cur_emotions', sa.JSON), ('cur_distribution', sa.JSON), ('cur_dominance', sa.Float),
                ('cur_targets', sa.JSON)],
    'predictions': [('outputs', sa.JSON)],
    'datasets': [('label_schema', sa.JSON)],
}


def upgrade() -> None:
    for table, cols in NEW_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, kind in cols:
                batch_op.add_column(sa.Column(name, kind(), nullable=True))
    op.create_table('sample_categories',
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'],
                            name=op.f('fk_sample_categories_dataset_id_datasets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'],
                            name=op.f('fk_sample_categories_sample_id_samples'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dataset_id', 'category', 'sample_id', name=op.f('pk_sample_categories'))
    )
    op.create_index('ix_sample_categories_sample', 'sample_categories', ['sample_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sample_categories_sample', table_name='sample_categories')
    op.drop_table('sample_categories')
    for table, cols in reversed(NEW_COLUMNS.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in reversed(cols):
                batch_op.drop_column(name)
