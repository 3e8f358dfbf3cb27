"""What the stages share: the ``Post`` value type and the database (models, migrations, access)."""
