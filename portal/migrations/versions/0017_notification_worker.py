"""the notification worker: outbox messages get a status, a next try and a claim

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 18:00:00
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="queued")
        )
        batch_op.add_column(
            sa.Column("next_attempt_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.create_index(
            "ix_outbox_messages_status_next", ["status", "next_attempt_at"], unique=False
        )
    # a message already marked sent (none in practice: nothing sent before this release)
    op.execute("UPDATE outbox_messages SET status = 'sent' WHERE sent_at IS NOT NULL")
    # The backlog written while no worker existed (every move since launch, "in review" too)
    # is not sent all at once when the worker starts: kept as failed, with the reason, so
    # `flask notify list --status failed` shows it and `flask notify retry` can send some.
    op.execute(
        "UPDATE outbox_messages SET status = 'failed', last_error = 'written before the "
        "notification worker existed: not sent (flask notify retry sends it)' "
        "WHERE sent_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_status_next")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("status")
