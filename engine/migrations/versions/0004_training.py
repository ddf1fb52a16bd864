"""training register and Prevent concern milestones (SPEC §13)

Revision ID: 0004
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

from engine.tables import UTCDateTime

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("full_name", sa.String(length=300), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("staff_role", sa.String(length=100), nullable=True),
        sa.Column("manager", sa.String(length=200), nullable=True),
        sa.Column("course", sa.String(length=60), nullable=False),
        sa.Column("training_type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assigned_on", sa.String(length=10), nullable=True),
        sa.Column("complete_by", sa.String(length=10), nullable=True),
        sa.Column("completed_on", sa.String(length=10), nullable=True),
        sa.Column("certificate_ref", sa.String(length=200), nullable=True),
        sa.Column("refresher_due_on", sa.String(length=10), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("person", "department", "staff_role", "training_type", "status", "completed_on", "refresher_due_on",
                   "instance_id"):
        op.create_index(f"ix_training_records_{column}", "training_records", [column])
    op.create_index("ix_training_records_person_course", "training_records", ["person", "course"])
    op.create_table(
        "concern_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("ideology_category", sa.String(length=40), nullable=False),
        sa.Column("occurred_on", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "stage"),
    )
    for column in ("instance_id", "stage", "occurred_on"):
        op.create_index(f"ix_concern_milestones_{column}", "concern_milestones", [column])


def downgrade() -> None:
    op.drop_table("concern_milestones")
    op.drop_table("training_records")
