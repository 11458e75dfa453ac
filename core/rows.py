"""Model instances from rows read with a plain cursor, converted exactly as the ORM converts them.

For hot reads whose SQL is built once (``accounts.selectors``' per-request lookups, the paginator's
reused page statements): the row must hold every concrete column of the model, in model order.
"""

from functools import cache
from typing import Any

from django.db import connections
from django.db.models import Model


@cache
def _converted_columns(model: type[Model], using: str) -> tuple[list[str], list[tuple]]:
    """The model's attnames, and (index, column, converters) of each column the ORM converts."""
    connection = connections[using]
    attnames, converted = [], []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        attnames.append(field.attname)
        if converters:
            converted.append((index, column, converters))
    return attnames, converted


def model_from_row[M: Model](model: type[M], row: tuple | list, *, using: str = "default") -> M:
    """A model instance from a row of all its concrete columns, as the ORM would build it."""
    attnames, converted = _converted_columns(model, using)
    values: list[Any] = list(row)
    if converted:
        connection = connections[using]
        for index, column, converters in converted:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
    return model.from_db(using, attnames, values)
