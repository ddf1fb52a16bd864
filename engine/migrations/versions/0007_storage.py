"""storage: audit payload digests and salts as bytes, no index on audit_payloads.seq, audit events indexed by
instance_id alone (deduplicated on PostgreSQL)

Revision ID: 0007
Revises: 0005
Depends on: 0003 (creates audit_payloads)
"""
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = "0003"


def upgrade() -> None:
    op.drop_index("ix_audit_events_instance_seq", table_name="audit_events")
    op.create_index("ix_audit_events_instance", "audit_events", ["instance_id"])
    op.drop_index("ix_audit_payloads_seq", table_name="audit_payloads")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_payloads ALTER COLUMN digest TYPE bytea USING decode(digest, 'hex'), "
                   "ALTER COLUMN salt TYPE bytea USING decode(salt, 'hex')")
        return
    _rewrite_sqlite(bytes.fromhex)
    with op.batch_alter_table("audit_payloads") as batch_op:
        batch_op.alter_column("digest", type_=sa.LargeBinary(), existing_nullable=False)
        batch_op.alter_column("salt", type_=sa.LargeBinary(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_payloads ALTER COLUMN digest TYPE varchar(64) USING encode(digest, 'hex'), "
                   "ALTER COLUMN salt TYPE varchar(64) USING encode(salt, 'hex')")
    else:
        _rewrite_sqlite(lambda value: bytes(value).hex())
        with op.batch_alter_table("audit_payloads") as batch_op:
            batch_op.alter_column("digest", type_=sa.String(length=64), existing_nullable=False)
            batch_op.alter_column("salt", type_=sa.String(length=64), existing_nullable=False)
    op.create_index("ix_audit_payloads_seq", "audit_payloads", ["seq"])
    op.drop_index("ix_audit_events_instance", table_name="audit_events")
    op.create_index("ix_audit_events_instance_seq", "audit_events", ["instance_id", "seq"])


def _rewrite_sqlite(convert: Callable[[Any], Any]) -> None:
    """SQLite (no decode()): rewrite each row's digest and salt in Python (hex text <-> bytes)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT rowid, digest, salt FROM audit_payloads")).all()
    update = sa.text("UPDATE audit_payloads SET digest = :digest, salt = :salt WHERE rowid = :rowid")
    for rowid, digest, salt in rows:
        bind.execute(update, {"rowid": rowid, "digest": convert(digest), "salt": convert(salt)})
