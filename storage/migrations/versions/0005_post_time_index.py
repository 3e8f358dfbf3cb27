"""posts: an index on a post's time (published, else collected), the console's order and window

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the same expression as storage.posts.POST_TIME: the review list reads the newest posts of a
    # window through it instead of sorting every post (bench/web_1m.py)
    op.create_index("ix_posts_time", "posts", [sa.text("coalesce(published_at, fetched_at)")], unique=False)


def downgrade() -> None:
    op.drop_index("ix_posts_time", table_name="posts")
