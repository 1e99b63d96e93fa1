"""The embedded default's queue file (jobs.queue): as durable as the SQLite database."""

import sqlite3

from jobs.queue import SqliteHuey

# PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL.
NORMAL = 1


def add(a, b):
    return a + b


def test_the_queue_commits_as_the_database_does(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    huey = SqliteHuey("jobs-test", filename=str(path))
    huey.task()(add)(1, 2)
    connection = huey.storage.conn
    assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert connection.execute("pragma synchronous").fetchone()[0] == NORMAL

    # The enqueue committed: a consumer's own connection to the file finds the job there.
    consumer = SqliteHuey("jobs-test", filename=str(path))
    consumer.task()(add)
    assert consumer.pending_count() == 1
    task = consumer.dequeue()
    assert task.args == (1, 2)
    assert consumer.pending_count() == 0
    huey.storage.close()
    consumer.storage.close()
    with sqlite3.connect(path) as plain:
        assert plain.execute("select count(*) from task").fetchone()[0] == 0


def test_the_settings_choose_it_for_a_queue_in_a_file():
    from django.conf import settings

    backend = settings.HUEY["huey_class"]
    assert backend == (
        "jobs.queue.SqliteHuey" if settings.JOBS_BACKEND == "sqlite" else "huey.RedisHuey"
    )
