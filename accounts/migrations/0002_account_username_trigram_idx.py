"""Substring search of usernames served by a trigram index, on PostgreSQL only.

`username__icontains` is `UPPER(username) LIKE UPPER('%...%')` there: a GIN trigram index on
UPPER(username) answers it without reading every account. SQLite has no such index and
keeps its bounded scan (pages of 8, no COUNT), so this migration does nothing there.
"""

from django.db import migrations

INDEX = "account_username_trgm_idx"


def create_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    meta = apps.get_model("accounts", "Account")._meta
    table = schema_editor.quote_name(meta.db_table)
    column = schema_editor.quote_name(meta.get_field("username").column)
    # pg_trgm is a trusted extension: a database owner may create it without superuser.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other objects may use it by now.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
