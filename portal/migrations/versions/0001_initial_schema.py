"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 08:14:17.100396
"""

from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('access_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kk_hmac', sa.String(length=32), nullable=False),
    sa.Column('at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=16), nullable=False),
    sa.Column('actor_role', sa.String(length=32), nullable=True),
    sa.Column('actor_office', sa.String(length=13), nullable=True),
    sa.Column('period', sa.String(length=6), nullable=True),
    sa.Column('ip_prefix', sa.String(length=49), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_events'))
    )
    with op.batch_alter_table('access_events', schema=None) as batch_op:
        batch_op.create_index('ix_access_events_kk_hmac_at', ['kk_hmac', 'at'], unique=False)

    op.create_table('snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=6), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source_name', sa.String(length=255), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('household_count', sa.Integer(), nullable=False),
    sa.Column('imported_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshots'))
    )
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_snapshots_sha256', ['sha256'], unique=False)
        batch_op.create_index('ix_snapshots_status_period', ['status', 'period'], unique=False)

    op.create_table('wilayah',
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('parent_code', sa.String(length=13), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['wilayah.code'], name=op.f('fk_wilayah_parent_code_wilayah'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_wilayah'))
    )
    with op.batch_alter_table('wilayah', schema=None) as batch_op:
        batch_op.create_index('ix_wilayah_parent_code_name', ['parent_code', 'name'], unique=False)

    op.create_table('households',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('kk_hmac', sa.String(length=32), nullable=False),
    sa.Column('no_kk', sa.String(length=16), nullable=False),
    sa.Column('kode_desa', sa.String(length=13), nullable=False),
    sa.Column('alamat', sa.String(length=200), nullable=False),
    sa.Column('desil', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('desil BETWEEN 1 AND 10', name=op.f('ck_households_desil_range')),
    sa.ForeignKeyConstraint(['kode_desa'], ['wilayah.code'], name=op.f('fk_households_kode_desa_wilayah')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshots.id'], name=op.f('fk_households_snapshot_id_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'kk_hmac', name=op.f('pk_households'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_snapshot_id_kode_desa', ['snapshot_id', 'kode_desa'], unique=False)

    op.create_table('persons',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('nik_hmac', sa.String(length=32), nullable=False),
    sa.Column('kk_hmac', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=False),
    sa.Column('nama', sa.String(length=100), nullable=False),
    sa.Column('jenis_kelamin', sa.String(length=1), nullable=False),
    sa.Column('tanggal_lahir', sa.Date(), nullable=False),
    sa.Column('hubungan', sa.String(length=20), nullable=False),
    sa.Column('programs', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id', 'kk_hmac'], ['households.snapshot_id', 'households.kk_hmac'], name=op.f('fk_persons_snapshot_id_households'), ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('snapshot_id', 'nik_hmac', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_snapshot_id_kk_hmac', ['snapshot_id', 'kk_hmac'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index('ix_persons_snapshot_id_kk_hmac')

    op.drop_table('persons')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index('ix_households_snapshot_id_kode_desa')

    op.drop_table('households')
    with op.batch_alter_table('wilayah', schema=None) as batch_op:
        batch_op.drop_index('ix_wilayah_parent_code_name')

    op.drop_table('wilayah')
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_snapshots_status_period')
        batch_op.drop_index('ix_snapshots_sha256')

    op.drop_table('snapshots')
    with op.batch_alter_table('access_events', schema=None) as batch_op:
        batch_op.drop_index('ix_access_events_kk_hmac_at')

    op.drop_table('access_events')

