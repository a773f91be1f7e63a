"""Benchmark rows carry the suite, in-filler, runtime and details; metrics their 95% interval.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("benchmark_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suite", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("infill", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("seconds_per_image", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_benchmark_run_suite"), ["suite"], unique=False)
    with op.batch_alter_table("metric_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("low", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("high", sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("metric_result", schema=None) as batch_op:
        batch_op.drop_column("high")
        batch_op.drop_column("low")
    with op.batch_alter_table("benchmark_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benchmark_run_suite"))
        batch_op.drop_column("details")
        batch_op.drop_column("seconds_per_image")
        batch_op.drop_column("infill")
        batch_op.drop_column("suite")
