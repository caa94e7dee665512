"""children: the year of birth the statutory returns give (SSDA903, Annex A), never the date

Revision ID: 5b1d9c3e7a20
Revises: 3c7f0e2a9b41
Create Date: 2026-12-20 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1d9c3e7a20"
down_revision: str | None = "3c7f0e2a9b41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("birth_year", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("children") as batch:
        batch.drop_column("birth_year")
