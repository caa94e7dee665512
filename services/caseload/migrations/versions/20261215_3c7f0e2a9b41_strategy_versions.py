"""strategy versions: the council's strategy as published by the metrics service

Revision ID: 3c7f0e2a9b41
Revises: e6d6249da3f6
Create Date: 2026-12-15 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c7f0e2a9b41"
down_revision: str | None = "e6d6249da3f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "strategy_versions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("council", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_versions")),
        sa.UniqueConstraint("council", "version", name=op.f("uq_strategy_versions_council_version")),
    )


def downgrade() -> None:
    op.drop_table("strategy_versions")
