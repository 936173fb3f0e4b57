"""staff review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:32:19.164182
"""

from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('office_code', sa.String(length=5), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('ip_prefix', sa.String(length=49), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_staff_id_at', ['staff_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_target_type_target_id', ['target_type', 'target_id'], unique=False)

    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('office_code', sa.String(length=5), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=False),
    sa.Column('enrol_token_hash', sa.String(length=64), nullable=True),
    sa.Column('enrol_expires_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('enrolled_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_users_email')),
    sa.UniqueConstraint('enrol_token_hash', name=op.f('uq_staff_users_enrol_token_hash'))
    )
    op.create_table('exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kabupaten_code', sa.String(length=5), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_exports_created_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports'))
    )
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exports_kabupaten_code'), ['kabupaten_code'], unique=False)

    op.create_table('staff_desa',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('kode_desa', sa.String(length=13), nullable=False),
    sa.ForeignKeyConstraint(['kode_desa'], ['wilayah.code'], name=op.f('fk_staff_desa_kode_desa_wilayah')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_desa_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', 'kode_desa', name=op.f('pk_staff_desa'))
    )
    op.create_table('staff_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip_prefix', sa.String(length=49), nullable=True),
    sa.Column('user_agent', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_staff_sessions_staff_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_staff_sessions'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_staff_id'), ['staff_id'], unique=False)

    op.create_table('field_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('kode_desa', sa.String(length=13), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('finding', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_field_checks_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by_id'], ['staff_users.id'], name=op.f('fk_field_checks_done_by_id_staff_users')),
    sa.ForeignKeyConstraint(['kode_desa'], ['wilayah.code'], name=op.f('fk_field_checks_kode_desa_wilayah')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff_users.id'], name=op.f('fk_field_checks_requested_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_checks'))
    )
    with op.batch_alter_table('field_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_checks_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_checks_kode_desa'), ['kode_desa'], unique=False)

    with op.batch_alter_table('appeal_photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field_check_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_appeal_photos_field_check_id'), ['field_check_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_appeal_photos_field_check_id_field_checks'), 'field_checks', ['field_check_id'], ['id'])

    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('export_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_appeals_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_export_id'), ['export_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_appeals_decided_by_id_staff_users'), 'staff_users', ['decided_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_appeals_assigned_to_id_staff_users'), 'staff_users', ['assigned_to_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_appeals_export_id_exports'), 'exports', ['export_id'], ['id'])




def downgrade() -> None:
    
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_appeals_export_id_exports'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_appeals_assigned_to_id_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_appeals_decided_by_id_staff_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_appeals_export_id'))
        batch_op.drop_index(batch_op.f('ix_appeals_assigned_to_id'))
        batch_op.drop_column('export_id')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('assigned_at')
        batch_op.drop_column('assigned_to_id')

    with op.batch_alter_table('appeal_photos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_appeal_photos_field_check_id_field_checks'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_appeal_photos_field_check_id'))
        batch_op.drop_column('field_check_id')

    with op.batch_alter_table('field_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_checks_kode_desa'))
        batch_op.drop_index(batch_op.f('ix_field_checks_appeal_id'))

    op.drop_table('field_checks')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_staff_id'))

    op.drop_table('staff_sessions')
    op.drop_table('staff_desa')
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exports_kabupaten_code'))

    op.drop_table('exports')
    op.drop_table('staff_users')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_target_type_target_id')
        batch_op.drop_index('ix_audit_events_staff_id_at')

    op.drop_table('audit_events')

