"""audit storage: event hashes as their 32 bytes, audit payloads keyed by the event's seq without a digest

- audit_events.prev_hash and hash: 64 hex characters -> 32 bytes (bytea / BLOB). Python still sees hex text
  (tables.HexBytes) and the chain still hashes the hex text, so every stored hash keeps verifying. A value that
  is not 64 lowercase hex characters (a tampered row) is kept as its UTF-8 bytes: it still fails verification.
- audit_payloads: the digest column goes (the event's details hold it and readers recompute SHA-256(salt + body)),
  the primary key becomes seq (one payload per event), and the instance_id index goes (an instance's payloads are
  found through its events' seqs).

Revision ID: 0010
Revises: 0009
"""
import hashlib
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_HEX64 = re.compile(r"[0-9a-f]{64}")
# PostgreSQL: hex text -> bytes, anything else -> its UTF-8 bytes (as tables.HexBytes binds it)
_PG_UNHEX = "CASE WHEN {0} ~ '^[0-9a-f]{{64}}$' THEN decode({0}, 'hex') ELSE convert_to({0}, 'UTF8') END"
_PG_HEX = "CASE WHEN length({0}) = 32 THEN encode({0}, 'hex') ELSE encode({0}, 'escape') END"


def _unhex(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return bytes.fromhex(value) if _HEX64.fullmatch(value) else value.encode("utf-8")


def _hex(value: Any) -> Any:
    if not isinstance(value, bytes):
        return value
    return value.hex() if len(value) == 32 else value.decode("utf-8", "replace")


def _payload_digest(salt: Any, body: str) -> bytes:
    return hashlib.sha256((bytes(salt).hex() + body).encode("utf-8")).digest()


def _sqlite_functions() -> None:
    """SQLite has no decode(): the conversions run as Python functions inside single UPDATE statements."""
    connection = op.get_bind().connection.driver_connection
    connection.create_function("cf_unhex", 1, _unhex, deterministic=True)
    connection.create_function("cf_hex", 1, _hex, deterministic=True)
    connection.create_function("cf_payload_digest", 2, _payload_digest, deterministic=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events "
                   f"ALTER COLUMN prev_hash TYPE bytea USING {_PG_UNHEX.format('prev_hash')}, "
                   f"ALTER COLUMN hash TYPE bytea USING {_PG_UNHEX.format('hash')}")
        op.drop_index("ix_audit_payloads_instance_id", table_name="audit_payloads")
        op.execute("ALTER TABLE audit_payloads DROP CONSTRAINT audit_payloads_pkey, DROP COLUMN digest, "
                   "ADD CONSTRAINT audit_payloads_pkey PRIMARY KEY (seq)")
        return
    _sqlite_functions()
    _rebuild_sqlite_events(sa.LargeBinary(), "cf_unhex")
    _rebuild_sqlite_payloads(with_digest=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_payloads ADD COLUMN digest bytea")
        op.execute("UPDATE audit_payloads SET digest = sha256(convert_to(encode(salt, 'hex') || body, 'UTF8'))")
        op.execute("ALTER TABLE audit_payloads DROP CONSTRAINT audit_payloads_pkey, "
                   "ALTER COLUMN digest SET NOT NULL, ADD CONSTRAINT audit_payloads_pkey PRIMARY KEY (digest)")
        op.create_index("ix_audit_payloads_instance_id", "audit_payloads", ["instance_id"])
        op.execute("ALTER TABLE audit_events "
                   f"ALTER COLUMN prev_hash TYPE varchar(64) USING {_PG_HEX.format('prev_hash')}, "
                   f"ALTER COLUMN hash TYPE varchar(64) USING {_PG_HEX.format('hash')}")
        return
    _sqlite_functions()
    _rebuild_sqlite_payloads(with_digest=True)
    _rebuild_sqlite_events(sa.String(length=64), "cf_hex")


def _rebuild_sqlite_events(hash_type: sa.types.TypeEngine, convert: str) -> None:
    """SQLite cannot change a column's type in place, and its append-only triggers refuse UPDATE: copy the rows
    (converting both hashes) into a table of the new shape, then restore the indexes and the triggers."""
    op.create_table("_audit_events_new",
                    sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column("instance_id", sa.Integer(), nullable=True),
                    sa.Column("at", sa.DateTime(), nullable=False),
                    sa.Column("actor", sa.String(length=200), nullable=False),
                    sa.Column("role", sa.String(length=100), nullable=True),
                    sa.Column("type", sa.String(length=60), nullable=False),
                    sa.Column("element_id", sa.String(length=200), nullable=True),
                    sa.Column("details", sa.Text(), nullable=False),
                    sa.Column("prev_hash", hash_type, nullable=False),
                    sa.Column("hash", hash_type, nullable=False),
                    sa.PrimaryKeyConstraint("seq"))
    op.execute("INSERT INTO _audit_events_new SELECT seq, instance_id, at, actor, role, type, element_id, details, "
               f"{convert}(prev_hash), {convert}(hash) FROM audit_events ORDER BY seq")
    op.drop_table("audit_events")  # with its indexes and triggers
    op.rename_table("_audit_events_new", "audit_events")
    op.create_index("ix_audit_events_instance", "audit_events", ["instance_id"])
    op.create_index("ix_audit_events_escalated_at", "audit_events", ["at"],
                    sqlite_where=sa.text("type = 'task_escalated'"))
    for action in ("UPDATE", "DELETE"):  # as 0001 created them
        op.execute(f"""CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events
                       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")


def _rebuild_sqlite_payloads(with_digest: bool) -> None:
    """SQLite cannot change a primary key in place: copy the rows into a table of the new shape."""
    columns = [sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
               sa.Column("instance_id", sa.Integer(), nullable=True),
               sa.Column("salt", sa.LargeBinary(), nullable=False),
               sa.Column("body", sa.Text(), nullable=False)]
    if with_digest:
        columns.insert(0, sa.Column("digest", sa.LargeBinary(), nullable=False))
    op.create_table("_audit_payloads_new", *columns, sa.PrimaryKeyConstraint("digest" if with_digest else "seq"))
    digest = "cf_payload_digest(salt, body), " if with_digest else ""
    op.execute(f"INSERT INTO _audit_payloads_new ({'digest, ' if with_digest else ''}seq, instance_id, salt, body) "
               f"SELECT {digest}seq, instance_id, salt, body FROM audit_payloads")
    op.drop_table("audit_payloads")
    op.rename_table("_audit_payloads_new", "audit_payloads")
    if with_digest:
        op.create_index("ix_audit_payloads_instance_id", "audit_payloads", ["instance_id"])
