"""the access epoch: one row whose value changes with every change of users, tokens,
memberships or sites, so that cached answers about access can be keyed by it (issue 10:
cached stats reads)

Revision ID: 0014_access_epoch
Revises: 0013_page_years
Create Date: 2026-12-03 10:30:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_access_epoch"
down_revision: str | None = "0013_page_years"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "access_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_epoch")),
    )
    # Random, as every later value: a database restored from a backup never meets a
    # value some cache holds entries of other rows under.
    op.bulk_insert(table, [{"id": 1, "value": secrets.randbits(62)}])


def downgrade() -> None:
    op.drop_table("access_epoch")
