"""Hot read queries: the ORM writes the SQL of a query shape once, each request runs it.

Building a queryset and compiling it to SQL costs the ORM 0.3-1 ms of CPU for a feed query
with its visibility rule, several times what the database spends answering it, and the
feeds, the detail and the lists make one on every request. A CompiledQuery asks the ORM for
the SQL of a shape once per thread and database (the selectors stay the one definition of
what is read), with marker values where a request's values go. Each request then runs that
SQL with its own values and gets plain rows back, converted by the ORM's own converters
(SQLite's datetimes and booleans come back as the ORM would return them).

    FEED = CompiledQuery(Funding, lambda staff, viewer: feed(viewer_id=viewer, ...),
                         viewer=str)
    FEED.rows(request.user.is_staff, viewer=request.user.pk, limit=8, offset=0)

`shape` is everything that changes the SQL text (a different shape is compiled once more);
the named values are the parameters that change from one request to the next (`limit` and
`offset` go into the SQL text as numbers, as the ORM writes a slice). A substring to match
is declared `Like`. Any other value that the ORM would transform (a date, a pattern of
another kind) cannot be a marker: compiling raises ImproperlyConfigured, so a test of the
query finds it at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import Model, QuerySet

# Marker values stand in for a request's values while the ORM compiles the shape. They are
# never sent to the database, and no real parameter of these queries looks like them.
_INT_MARKER_BASE = -730_000_001


class Like:
    """The kind of a str value that the query matches as a substring (`icontains` and
    friends): the ORM writes the pattern around a marker, and each request's value goes in
    its place escaped as the ORM would (`%` and `_` match themselves)."""


def _marker(name: str, kind: type, index: int):
    if kind is int:
        return _INT_MARKER_BASE - index
    if kind is str or kind is Like:
        return f"\x00compiled-query:{name}\x00"
    raise ImproperlyConfigured(f"CompiledQuery values are int, str or Like, not {kind!r}.")


@dataclass(frozen=True)
class _Slot:
    name: str


@dataclass(frozen=True)
class _Embedded:
    """A Like value inside the pattern the ORM made of its marker."""

    name: str
    prefix: str
    suffix: str


def _fill(slot: _Embedded, values: dict, connection) -> str:
    return slot.prefix + connection.ops.prep_for_like_query(values[slot.name]) + slot.suffix


@dataclass
class _Plan:
    sql: str
    params: list  # a constant, or a _Slot filled from the request's values
    names: list[str]  # one per column: "field", "relation__field" or an annotation's name
    connection: object
    converters: list[tuple[int, list, object]]


def _column_names(compiler) -> list[str]:
    """The result column names of a compiled queryset, from the compiler's own layout.

    The model's fields by attname, a select_related relation's as "relation__attname",
    annotations by their names.
    """
    names: list[str | None] = [None] * len(compiler.select)

    def walk(klass_info, prefix: str) -> None:
        for index in klass_info["select_fields"]:
            names[index] = prefix + compiler.select[index][0].target.attname
        for related in klass_info.get("related_klass_infos", ()):
            walk(related, f"{prefix}{related['field'].name}__")

    if compiler.klass_info:
        walk(compiler.klass_info, "")
    else:  # values() / values_list(): the fields asked for, in order
        query = compiler.query
        for index, name in enumerate([*query.extra_select, *query.values_select]):
            names[index] = name
    for name, index in compiler.annotation_col_map.items():
        names[index] = name
    if None in names:
        raise ImproperlyConfigured("CompiledQuery: a selected column has no name.")
    return names


class CompiledQuery:
    def __init__(self, model: type[Model], build: Callable[..., QuerySet], **values: type):
        self.model = model
        self.build = build
        self.values = values
        self._markers = {
            name: _marker(name, kind, index) for index, (name, kind) in enumerate(values.items())
        }
        # Per thread: a plan holds the thread's connection (its converters are bound to it).
        self._local = threading.local()

    def _compile(self, alias: str, shape: Hashable) -> _Plan:
        queryset = self.build(shape, **self._markers).using(alias)
        if queryset.query.is_sliced:
            raise ImproperlyConfigured("CompiledQuery: slice with rows(limit=, offset=).")
        compiler = queryset.query.get_compiler(alias)
        sql, raw_params = compiler.as_sql()
        by_marker = {(type(m), m): name for name, m in self._markers.items()}
        params = []
        for value in raw_params:
            name = by_marker.get((type(value), value))
            if name is not None:
                params.append(_Slot(name))
                continue
            embedded = self._embedded(value)
            if embedded is not None:
                params.append(embedded)
                continue
            if isinstance(value, str) and "\x00compiled-query:" in value:
                raise ImproperlyConfigured(
                    f"CompiledQuery: the ORM transformed a marker ({value!r}); "
                    "pass that value already transformed."
                )
            params.append(value)
        columns = [column for column, _, _ in compiler.select]
        converters = [
            (position, funcs, expression)
            for position, (funcs, expression) in compiler.get_converters(columns).items()
        ]
        return _Plan(sql, params, _column_names(compiler), compiler.connection, converters)

    def _embedded(self, value) -> _Embedded | None:
        if not isinstance(value, str):
            return None
        for name, kind in self.values.items():
            marker = self._markers[name]
            if kind is Like and value.count(marker) == 1:
                prefix, suffix = value.split(marker)
                return _Embedded(name, prefix, suffix)
        return None

    def _plan(self, alias: str, shape: Hashable) -> _Plan:
        plans = getattr(self._local, "plans", None)
        if plans is None:
            plans = self._local.plans = {}
        connection = connections[alias]
        plan = plans.get((alias, shape))
        if plan is None or plan.connection is not connection:
            plan = plans[(alias, shape)] = self._compile(alias, shape)
        return plan

    def _fetch(self, shape: Hashable, limit: int | None, offset: int, values: dict):
        alias = router.db_for_read(self.model)
        plan = self._plan(alias, shape)
        params = [
            values[p.name]
            if type(p) is _Slot
            else _fill(p, values, plan.connection)
            if type(p) is _Embedded
            else p
            for p in plan.params
        ]
        sql = plan.sql
        if limit is not None:
            # Numbers in the SQL text, as the ORM writes them: a plan that PostgreSQL reuses
            # (prepared statements) is then made for this limit; with a parameter it plans
            # for an unknown one and may read the whole table to sort it.
            sql = f"{sql} LIMIT {int(limit)} OFFSET {int(offset)}"
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        connection = plan.connection
        if not plan.converters:
            return alias, plan, fetched
        converted = []
        for raw in fetched:
            row = list(raw)
            for position, funcs, expression in plan.converters:
                value = row[position]
                for convert in funcs:
                    value = convert(value, expression, connection)
                row[position] = value
            converted.append(row)
        return alias, plan, converted

    def rows(
        self, shape: Hashable = (), *, limit: int | None = None, offset: int = 0, **values
    ) -> list[dict]:
        """The rows for these values, as dicts keyed by column name; `limit`/`offset` page."""
        _, plan, fetched = self._fetch(shape, limit, offset, values)
        names = plan.names
        return [dict(zip(names, row, strict=True)) for row in fetched]

    def instances(
        self, shape: Hashable = (), *, limit: int | None = None, offset: int = 0, **values
    ) -> list[Model]:
        """The rows as model instances, as the ORM loads them (`only()` shapes with no
        select_related: every column is a field of the model)."""
        alias, plan, fetched = self._fetch(shape, limit, offset, values)
        return [self.model.from_db(alias, plan.names, row) for row in fetched]


def row_of(instance: Model, names: tuple[str, ...]) -> dict:
    """A model instance as a row of a compiled query: `names` like "field" or
    "relation__field", read off the instance (relations loaded with it)."""
    row = {}
    for name in names:
        value = instance
        for part in name.split("__"):
            value = getattr(value, part)
        row[name] = value
    return row
