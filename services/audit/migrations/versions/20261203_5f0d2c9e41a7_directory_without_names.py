"""worker directory without names: no answer of the audit service shows a worker's name

Revision ID: 5f0d2c9e41a7
Revises: 3ba8f4995167
Create Date: 2026-12-03 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5f0d2c9e41a7"
down_revision: str | None = "3ba8f4995167"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("directory_workers") as batch:
        batch.drop_column("display_name")


def downgrade() -> None:
    # The names come back with the next staff event of each worker (or a rebuild of the directory).
    with op.batch_alter_table("directory_workers") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=200), nullable=False, server_default=""))
