"""The embedded default's queue: huey's SQLite storage, as durable as the database.

funsun.settings runs the SQLite database in WAL mode with synchronous=NORMAL: a commit
survives a crash of the process, and a crash of the machine may lose the last commits but
never corrupts the file. huey offers FULL (`fsync=True`, also SQLite's default: an fsync
on every enqueue, paid inside the request whose commit enqueues the job) or OFF
(`fsync=False`, which in WAL mode may corrupt the file when the machine loses power). The
queue takes NORMAL too. What a crash of the machine may lose is what a crash between a
commit and its enqueue loses: reconciliation finishes a refund whose job never came
(docs/MONEY.md), and a notification whose push job was lost stays readable in the app.
"""

from huey import Huey
from huey.storage import SqliteStorage


class DurableSqliteStorage(SqliteStorage):
    def _create_connection(self):
        # The hook huey's SQLite storage itself overrides to set its pragmas.
        connection = super()._create_connection()
        connection.execute("pragma synchronous=NORMAL")
        return connection


class SqliteHuey(Huey):
    storage_class = DurableSqliteStorage
