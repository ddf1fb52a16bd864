"""instance list and yearly report indexes: one ordered index range per visibility branch and filter

Revision ID: 0006
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

# (name, columns): plain composite indexes, on every database.
COMPOSITE = (
    ("ix_instances_started_by_id", ["started_by", "id"]),
    ("ix_instances_process_key_id", ["process_key", "id"]),
    ("ix_instances_status_id", ["status", "id"]),
    ("ix_instances_process_key_started_at", ["process_key", "started_at"]),
)
# (name, columns): indexes on summary fields, PostgreSQL only (SQLite databases are small).
SUMMARY = (
    ("ix_instances_final_decision_on", ["process_key", "(summary ->> 'final_decision_on')"]),
    ("ix_instances_decided_on", ["process_key", "(summary ->> 'decided_on')"]),
    ("ix_instances_decision_id", ["(summary ->> 'decision')", "id"]),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for name, columns in COMPOSITE:
        op.create_index(name, "instances", columns)
    if _postgresql():
        for name, columns in SUMMARY:
            op.create_index(name, "instances", [sa.text(c) if c.startswith("(") else c for c in columns])


def downgrade() -> None:
    if _postgresql():
        for name, _ in reversed(SUMMARY):
            op.drop_index(name, table_name="instances")
    for name, _ in reversed(COMPOSITE):
        op.drop_index(name, table_name="instances")
