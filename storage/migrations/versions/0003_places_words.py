"""analyses.places and post_words: 地域分布 and 热词 of the reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("places", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "post_words",
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_words_post_id_posts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "word", name=op.f("pk_post_words")),
    )
    op.create_index(op.f("ix_post_words_word"), "post_words", ["word"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_post_words_word"), table_name="post_words")
    op.drop_table("post_words")
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("places")
