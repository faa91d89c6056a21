"""001's error codes: the enum the document publishes (gateway/events/error_codes.py) and the
message catalogue that localizes them (gateway/events/messages.py) agree."""

from __future__ import annotations

from domain.errors import RoostError
from gateway.events.error_codes import EventsErrorCode
from gateway.events.messages import CATALOG, SUPPORTED, localize
from gateway.events.openapi import SPEC, EventsError

# Codes 001 can answer that keep the error's own English title and message in every language:
# the nets behind validation (storage's SQLSTATE mapping, answered only when a check before it
# missed something), the form and query boundary no 001 client uses on purpose, and the session
# XSRF refusal (tenant apps send tokens; a browser session is the exception).
ENGLISH_ONLY = {
    "check_violation",
    "concurrent_update",
    "database_error",
    "forbidden_characters",
    "invalid_characters",
    "invalid_value",
    "malformed_form",
    "missing_value",
    "reference_not_found",
    "still_referenced",
    "unsupported_charset",
    "value_too_large",
    "value_too_long",
    "xsrf_mismatch",
}


def test_every_catalogued_code_is_in_the_enum():
    assert set(CATALOG) - set(EventsErrorCode) == set()


def test_the_enum_codes_without_a_catalogue_entry_are_the_english_only_ones():
    assert set(EventsErrorCode) - set(CATALOG) == ENGLISH_ONLY


def test_catalogue_entries_have_every_language():
    for code, entry in CATALOG.items():
        assert set(entry) == set(SUPPORTED), code


def test_an_english_only_code_falls_back_to_the_errors_own_words():
    err = RoostError("A value is too long.", code="value_too_long")
    assert localize(err, "de") == (err.title, "A value is too long.")


def test_the_error_model_publishes_the_enum():
    schema = EventsError.model_json_schema()
    assert schema["$defs"]["EventsErrorCode"]["enum"] == [c.value for c in EventsErrorCode]
    assert SPEC.error_model is EventsError
