"""leases of running imports and import jobs: owner, heartbeat, lease end (issue 11)

Revision ID: 0012_import_job_lease
Revises: 0011_ranked_months
Create Date: 2026-12-03 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_import_job_lease"
down_revision: str | None = "0011_ranked_months"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("imports", "import_jobs")


def upgrade() -> None:
    # Rows running before the upgrade get no lease: they count as abandoned (their
    # runners stopped with the old version), so they can be deleted or resumed.
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_owner", sa.String(length=32), nullable=True))
            batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_until")
            batch.drop_column("heartbeat_at")
            batch.drop_column("lease_owner")
