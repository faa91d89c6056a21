"""gateway/kernel/fields.py's blank rule: one function for a field, one base for a whole model."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, BeforeValidator, ValidationError

from gateway.kernel.fields import BlankIsAbsent, blank_is_none


def test_blank_strings_are_none_and_others_are_stripped_or_left_alone():
    assert blank_is_none("") is None
    assert blank_is_none(" \t\n") is None
    assert blank_is_none("  x  ") == "x"
    assert blank_is_none(0) == 0
    assert blank_is_none(None) is None
    assert blank_is_none(["", " "]) == ["", " "]


class _Either(BlankIsAbsent):
    token: str | None = None
    code: str | None = None
    count: int = 3


def test_every_field_of_a_blank_is_absent_model():
    body = _Either.model_validate({"token": "  ", "code": " abc ", "count": 5})
    assert (body.token, body.code, body.count) == (None, "abc", 5)


def test_a_blank_required_field_is_refused_as_null_not_taken_as_empty():
    class Needs(BlankIsAbsent):
        name: str

    with pytest.raises(ValidationError) as raised:
        Needs.model_validate({"name": " "})
    assert [e["type"] for e in raised.value.errors()] == ["string_type"]


def test_one_field():
    class One(BaseModel):
        note: Annotated[str | None, BeforeValidator(blank_is_none)] = None
        other: str = ""

    body = One.model_validate({"note": "   ", "other": "  "})
    assert (body.note, body.other) == (None, "  ")
