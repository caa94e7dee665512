"""access log: who read which child's records, when and why (append-only)

Revision ID: 5096a6278828
Revises: 1b24139c433c
Create Date: 2026-12-03 08:30:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from steadfast_shared.access import create_access_log, drop_access_log

revision: str = "5096a6278828"
down_revision: str | None = "1b24139c433c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_access_log(op)


def downgrade() -> None:
    drop_access_log(op)
