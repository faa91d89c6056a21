"""Request field types that more than one contract reads, so no contract imports another's.

- `FORM_CONFIG`: Laravel's TrimStrings middleware trims every string input; the /api documents'
  clients (000 and 003, both Laravel) rely on it.
- `Email`: an email in a /api body: the one email rule (domain/emails.py), its refusals worded as
  Laravel's validator words them.
- `LoginEmail`: the email of a sign-in (002, 001's tenant login): not format-checked, since an
  address we would refuse simply matches no account.
- `Password`: a plain password (002, 001's tenant login), never stripped: spaces are characters
  of the password.
- `raw_field`: a string field of a body not yet validated (throttles key on the email first).
- `blank_is_none` / `BlankIsAbsent`: an empty or all-blank string field is a field not given
  (Laravel's ConvertEmptyStringsToNull; HTML forms send an unset field as ""), for one field
  (`BeforeValidator(blank_is_none)`) or every field of a model (subclass `BlankIsAbsent`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator

from domain.emails import EMAIL_MAX, is_email
from domain.passwords import MAX_PLAIN_PASSWORD

FORM_CONFIG = ConfigDict(str_strip_whitespace=True)



def _email(value: str) -> str:
    if not value:
        raise ValueError("The email field is required.")
    if len(value) > EMAIL_MAX:
        raise ValueError(f"The email may not be greater than {EMAIL_MAX} characters.")
    if not is_email(value):
        raise ValueError("The email must be a valid email address.")
    return value


Email = Annotated[str, AfterValidator(_email)]
LoginEmail = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=EMAIL_MAX)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PLAIN_PASSWORD)]


def raw_field(body: Any, name: str) -> str | None:
    """A string field of a body not yet validated (throttles key on the email before validation)."""
    value = body.get(name) if isinstance(body, dict) else None
    return value.strip() if isinstance(value, str) and len(value) <= EMAIL_MAX else None


def blank_is_none(value: object) -> object:
    """A string field stripped, and None when nothing is left; any other value as it came."""
    if isinstance(value, str):
        return value.strip() or None
    return value


class BlankIsAbsent(BaseModel):
    """Base of models whose blank string fields count as not given (so `required_without`-style
    rules and defaults apply to them as to a missing field)."""

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        return blank_is_none(value)
