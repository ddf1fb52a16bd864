"""messages, sharing log and speaker history

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

from engine.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("correlation_key", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("source_instance_id", sa.Integer(), nullable=True),
        sa.Column("target_instance_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("name", "correlation_key", "source_instance_id", "status"):
        op.create_index(f"ix_messages_{column}", "messages", [column])
    op.create_table(
        "sharing_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=30), nullable=False),
        sa.Column("counterpart_org", sa.String(length=300), nullable=False),
        sa.Column("speaker", sa.String(length=300), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("data_requested", sa.JSON(), nullable=False),
        sa.Column("data_categories_shared", sa.JSON(), nullable=False),
        sa.Column("transmitted", sa.Boolean(), nullable=False),
        sa.Column("transfer_method", sa.String(length=100), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("lawful_basis", sa.String(length=100), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("retention_until", sa.String(length=10), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("instance_id", "direction", "decision", "speaker", "retention_until", "created_at"):
        op.create_index(f"ix_sharing_log_{column}", "sharing_log", [column])
    op.create_table(
        "speaker_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("speaker_ref", sa.String(length=500), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=False),
        sa.Column("affiliation", sa.String(length=300), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("event_title", sa.String(length=300), nullable=False),
        sa.Column("event_date", sa.String(length=10), nullable=False),
        sa.Column("event_format", sa.String(length=50), nullable=True),
        sa.Column("decision", sa.String(length=40), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("incidents", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("speaker_ref", "instance_id"):
        op.create_index(f"ix_speaker_history_{column}", "speaker_history", [column])


def downgrade() -> None:
    op.drop_table("speaker_history")
    op.drop_table("sharing_log")
    op.drop_table("messages")
