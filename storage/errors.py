"""SQLSTATE -> domain errors, so asyncpg exceptions never reach a handler."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import asyncpg

from domain import errors

_ENCODING_ERRORS = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


def translate(exc: asyncpg.PostgresError) -> errors.RoostError:
    """The domain error that a database error means to a client."""
    constraint = getattr(exc, "constraint_name", None)
    meta = {"constraint": constraint} if constraint else {}
    if isinstance(exc, asyncpg.UniqueViolationError):
        return errors.Conflict("The resource already exists.", code="already_exists", meta=meta)
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        # 23503 covers both directions: inserting a row that points at nothing (the target is
        # missing: not found) and deleting a row that others still point at (conflict).
        detail = (exc.detail or "") + " " + (exc.message or "")
        if "is still referenced" in detail:
            return errors.Conflict("The resource is still in use.", code="still_referenced", meta=meta)
        return errors.NotFound("A referenced resource does not exist.", code="reference_not_found", meta=meta)
    if isinstance(exc, asyncpg.CheckViolationError):
        return errors.Invalid("The given data was invalid.", code="check_violation", meta=meta)
    if isinstance(exc, asyncpg.NotNullViolationError):
        column = getattr(exc, "column_name", None)
        fields = {column: [f"The {column} field is required."]} if column else {}
        return errors.Invalid("The given data was invalid.", code="missing_value", fields=fields)
    if isinstance(exc, _ENCODING_ERRORS):
        # NUL (22021) or a code point the database encoding lacks (22P05); validation refuses
        # these first (domain/inputs.py), this is the net behind it
        return errors.Invalid("The given data contains a character that is not allowed.", code="invalid_characters")
    if isinstance(exc, asyncpg.StringDataRightTruncationError):
        return errors.Invalid("A value is too long.", code="value_too_long")
    if isinstance(exc, asyncpg.DataError):
        # SQLSTATE class 22, "data exception": a value the column's type refuses (bad text for a
        # number or a date, out of range, division by zero...). asyncpg raises 22000 itself for
        # an argument it cannot encode (an int past int64, a str with a lone surrogate). Always
        # the input's fault, never the server's.
        return errors.Invalid("The given data was invalid.", code="invalid_value")
    if isinstance(exc, asyncpg.ProgramLimitExceededError):
        # 54000: a value past what the database can index or hold (an index row over ~2.7 KB,
        # a too-large array)
        return errors.Invalid("A value is too large.", code="value_too_large")
    if isinstance(exc, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        return errors.Conflict("A concurrent change interfered; retry.", code="concurrent_update")
    return errors.RoostError("Database error.", code="database_error")


@contextlib.contextmanager
def domain_errors() -> Iterator[None]:
    """Wrap query code: database errors leave as domain errors, everything else untouched."""
    try:
        yield
    except asyncpg.PostgresError as exc:
        raise translate(exc) from exc
