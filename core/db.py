"""Statements the ORM has no words for, or whose words cost more than their answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from django.db import connections, router
from django.db.models import NOT_PROVIDED, Expression, F, Model, QuerySet, Value
from django.db.models import query as orm_query


def insert_select(rows: QuerySet, model: type[Model], **values: Expression | F) -> list:
    """INSERT … SELECT: one new row of `model` for each of `rows`, made by the database in one
    statement, none built in Python (for a batch of thousands, most of the cost of bulk_create).
    `values` give fields as expressions over `rows`; the other fields take their defaults as a
    new instance would (evaluated once for all). Returns the new rows' primary keys."""
    columns, selected = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.name in values:
            selected.append(values.pop(field.name))
        elif field.db_default is not NOT_PROVIDED and not field.has_default():
            continue  # the database's default
        else:
            selected.append(Value(field.get_default(), output_field=field))  # as model() takes it
        columns.append(field.column)
    if values:
        raise TypeError(f"{model.__name__} has no field {', '.join(values)}")
    connection = connections[rows.db]
    sql, params = rows.order_by().values_list(*selected).query.sql_with_params()
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({quoted}) {sql} "
            f"RETURNING {connection.ops.quote_name(model._meta.pk.column)}",
            params,
        )
        return [pk for (pk,) in cursor.fetchall()]


def any_row(model: type[Model], where: str, params: Sequence = ()) -> bool:
    """Whether `model`'s table holds a row meeting `where` (SQL over its own columns, `%s` for
    `params`). For a check on a hot path that usually finds nothing: the ORM spends a millisecond
    of Python building a join the database answers in a tenth, this statement about 0.1 ms."""
    connection = connections[router.db_for_read(model)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where} LIMIT 1", params)
        return cursor.fetchone() is not None


def insert_unless_taken(instance: Model, *unique: str) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: `instance` written unless a row with the same `unique`
    fields exists, True (and its primary key set) when it was. A row another transaction is
    writing is waited for, as a plain INSERT waits on the unique index; but a conflict raises
    nothing, so the caller's transaction goes on without a savepoint around the insert (two
    statements more, and the ORM's insert built each time)."""
    meta = instance._meta
    connection = connections[router.db_for_write(type(instance))]
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    conflict = ", ".join(quote(field.column) for field in fields if field.name in unique)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({conflict}) DO NOTHING "
            f"RETURNING {quote(meta.pk.column)}",
            values,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True


class Prepared:
    """A query of model instances that the ORM builds and compiles once per process and thread,
    then runs with other values: for a lookup on a hot path whose building and compiling costs
    several times the database's answer (a contract with the 60 columns of its terms: 1.5 ms of
    Python for 0.2 ms of database). Rows become instances as the ORM makes them, with their
    `select_related` objects and annotations.

    `build(*values)` gives the queryset, from the model's own manager. Its SQL must depend on nothing but its arguments, and
    each argument must reach the SQL as one parameter, as it is: it is compiled once with
    `samples` (values of the arguments' types that appear nowhere else in the statement), whose
    places then take each call's values. A build that breaks this is refused when compiled."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], *samples):
        self._model = model
        self._build = build
        self._samples = samples
        self._compiled = threading.local()  # the compiler keeps its connection, one per thread

    def first(self, *values):
        """The first instance found with these values, or None."""
        found = self._fetch(values, every=False)
        return found[0] if found else None

    def all(self, *values) -> list:
        """Every instance found with these values."""
        return self._fetch(values, every=True)

    def _fetch(self, values: tuple, every: bool) -> list:
        db = router.db_for_read(self._model)
        compiled = getattr(self._compiled, db, None) or self._compile(db)
        sql, params, slots, compiler, populators, start, end, names = compiled
        params = [param if slot is None else values[slot] for param, slot in zip(params, slots)]
        with connections[db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if every else cursor.fetchmany(1)
        found = []
        for row in compiler.results_iter([rows]):  # with the fields' conversions from the database
            instance = self._model.from_db(db, names, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in compiler.annotation_col_map.items():
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    def _compile(self, db: str) -> tuple:
        queryset = self._build(*self._samples)
        if queryset.model is not self._model:
            raise TypeError(f"{self._build} gives {queryset.model.__name__}, not {self._model.__name__}")
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        slots = [next((i for i, s in enumerate(self._samples) if type(s) is type(p) and s == p), None) for p in params]
        if sorted(slot for slot in slots if slot is not None) != list(range(len(self._samples))):
            raise ValueError(f"Each of {self._samples} must reach the SQL once, as it is: {params}")
        fields = compiler.klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        names = [column[0].target.attname for column in compiler.select[start:end]]
        # Filled as the ORM fills select_related objects (django.db.models.query.ModelIterable).
        populators = orm_query.get_related_populators(compiler.klass_info, compiler.select, db)  # type: ignore[attr-defined]
        compiled = (sql, list(params), slots, compiler, populators, start, end, names)
        setattr(self._compiled, db, compiled)
        return compiled
