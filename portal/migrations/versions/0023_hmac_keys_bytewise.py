"""persons and households: keys lead with the keyed hash, which PostgreSQL compares bytewise

The primary keys become (nik_hmac, snapshot_id) and (kk_hmac, snapshot_id), and on
PostgreSQL the hash columns take COLLATE "C". A key that leads with a constant snapshot_id
(each partition holds one snapshot) compares it before every hash, and a hash under the
database's libc locale (C.UTF-8) is compared with strcoll, without abbreviated keys: the
import's two index builds on 3.6 M persons took 9.2 s, 4.4 s this way. For hex digits the
order and equality are the same in both collations. Lookups by (snapshot_id, hash) use the
new keys as they used the old ones; scans of one snapshot keep their snapshot_id-first indexes
(ix_persons_snapshot_id_kk_hmac, ix_households_snapshot_id_kode_desa).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 15:40:00
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

FK = (
    "ALTER TABLE persons ADD CONSTRAINT fk_persons_snapshot_id_households "
    "FOREIGN KEY (snapshot_id, kk_hmac) REFERENCES households (snapshot_id, kk_hmac) "
    "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
)


def _postgresql(hash_first: bool) -> None:
    collate = ' COLLATE "C"' if hash_first else ""
    persons_key = "nik_hmac, snapshot_id" if hash_first else "snapshot_id, nik_hmac"
    households_key = "kk_hmac, snapshot_id" if hash_first else "snapshot_id, kk_hmac"
    # on the partitioned parents: each statement reaches every snapshot's partition
    op.execute("ALTER TABLE persons DROP CONSTRAINT fk_persons_snapshot_id_households")
    op.execute("ALTER TABLE persons DROP CONSTRAINT pk_persons")
    op.execute("ALTER TABLE households DROP CONSTRAINT pk_households")
    op.execute("DROP INDEX ix_persons_snapshot_id_kk_hmac")
    op.execute(f"ALTER TABLE households ALTER COLUMN kk_hmac TYPE VARCHAR(32){collate}")
    op.execute(
        f"ALTER TABLE persons ALTER COLUMN nik_hmac TYPE VARCHAR(32){collate}, "
        f"ALTER COLUMN kk_hmac TYPE VARCHAR(32){collate}"
    )
    op.execute(f"ALTER TABLE households ADD CONSTRAINT pk_households PRIMARY KEY ({households_key})")
    op.execute(f"ALTER TABLE persons ADD CONSTRAINT pk_persons PRIMARY KEY ({persons_key})")
    op.execute("CREATE INDEX ix_persons_snapshot_id_kk_hmac ON persons (snapshot_id, kk_hmac)")
    op.execute(FK)


def _sqlite(hash_first: bool) -> None:
    keys = {
        "households": ["kk_hmac", "snapshot_id"] if hash_first else ["snapshot_id", "kk_hmac"],
        "persons": ["nik_hmac", "snapshot_id"] if hash_first else ["snapshot_id", "nik_hmac"],
    }
    for table in ("households", "persons"):
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", keys[table])


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(hash_first=True)
    else:
        _sqlite(hash_first=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql(hash_first=False)
    else:
        _sqlite(hash_first=False)
