"""appeals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:20:37.036670
"""

from alembic import op
import sqlalchemy as sa
import portal.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('appeal_drafts',
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_appeal_drafts'))
    )
    with op.batch_alter_table('appeal_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_drafts_updated_at'), ['updated_at'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason_code', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('filer_nik_hmac', sa.String(length=32), nullable=False),
    sa.Column('filer_nik', sa.String(length=16), nullable=False),
    sa.Column('filer_kk_hmac', sa.String(length=32), nullable=False),
    sa.Column('filer_verified', sa.Boolean(), nullable=False),
    sa.Column('filer_locale', sa.String(length=5), nullable=False),
    sa.Column('subject_is_filer_household', sa.Boolean(), nullable=False),
    sa.Column('subject_nik_hmac', sa.String(length=32), nullable=True),
    sa.Column('subject_nik', sa.String(length=16), nullable=True),
    sa.Column('subject_kk_hmac', sa.String(length=32), nullable=True),
    sa.Column('subject_found', sa.Boolean(), nullable=False),
    sa.Column('kabupaten_code', sa.String(length=5), nullable=False),
    sa.Column('kecamatan_code', sa.String(length=8), nullable=False),
    sa.Column('kode_desa', sa.String(length=13), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('declared', sa.Boolean(), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('period', sa.String(length=6), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=40), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('cluster_of_id', sa.Integer(), nullable=True),
    sa.Column('contests_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('draft_token', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['cluster_of_id'], ['appeals.id'], name=op.f('fk_appeals_cluster_of_id_appeals')),
    sa.ForeignKeyConstraint(['contests_id'], ['appeals.id'], name=op.f('fk_appeals_contests_id_appeals')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['appeals.id'], name=op.f('fk_appeals_duplicate_of_id_appeals')),
    sa.ForeignKeyConstraint(['kode_desa'], ['wilayah.code'], name=op.f('fk_appeals_kode_desa_wilayah')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('contests_id', name=op.f('uq_appeals_contests_id')),
    sa.UniqueConstraint('draft_token', name=op.f('uq_appeals_draft_token')),
    sa.UniqueConstraint('ticket', name=op.f('uq_appeals_ticket'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_filer_nik_hmac'), ['filer_nik_hmac'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_kabupaten_code'), ['kabupaten_code'], unique=False)
        batch_op.create_index('ix_appeals_kabupaten_code_status_due_at', ['kabupaten_code', 'status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_subject_kk_hmac'), ['subject_kk_hmac'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_subject_nik_hmac'), ['subject_nik_hmac'], unique=False)

    op.create_table('appeal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=10), nullable=False),
    sa.Column('actor_staff_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_events_appeal_id_appeals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_events'))
    )
    with op.batch_alter_table('appeal_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_events_appeal_id'), ['appeal_id'], unique=False)

    op.create_table('appeal_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('draft_token', sa.String(length=64), nullable=True),
    sa.Column('storage_key', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_photos_appeal_id_appeals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_appeal_photos_storage_key'))
    )
    with op.batch_alter_table('appeal_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_photos_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeal_photos_draft_token'), ['draft_token'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_outbox_messages_appeal_id_appeals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_sent_at'), ['sent_at'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_sent_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_appeal_id'))

    op.drop_table('outbox_messages')
    with op.batch_alter_table('appeal_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_photos_draft_token'))
        batch_op.drop_index(batch_op.f('ix_appeal_photos_appeal_id'))

    op.drop_table('appeal_photos')
    with op.batch_alter_table('appeal_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_events_appeal_id'))

    op.drop_table('appeal_events')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_subject_nik_hmac'))
        batch_op.drop_index(batch_op.f('ix_appeals_subject_kk_hmac'))
        batch_op.drop_index('ix_appeals_kabupaten_code_status_due_at')
        batch_op.drop_index(batch_op.f('ix_appeals_kabupaten_code'))
        batch_op.drop_index(batch_op.f('ix_appeals_filer_nik_hmac'))

    op.drop_table('appeals')
    with op.batch_alter_table('appeal_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_drafts_updated_at'))

    op.drop_table('appeal_drafts')

