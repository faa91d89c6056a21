"""002's OpenAPI document: what it says about itself (the operations come from routes.py).

002 lives at the root (or PETCARE_PREFIX), so every URL no other contract claims answers its
errors in 002's envelope: the framework's codes (unknown route, wrong method, unreadable body)
are in its error-code enum alongside the ones its own routes raise.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.kernel.api_envelope import RATE_LIMIT_HEADERS, THROTTLE_HEADERS
from gateway.kernel.openapi import security
from gateway.kernel.openapi.builder import ContractSpec
from gateway.petcare.guards import API_KEY_HEADER


class PetcareErrorCode(StrEnum):
    """`details.error_type` (and `detail[].type`) of every error 002's URLs answer."""

    # the framework and the request boundary (gateway/kernel/validation.py, domain/errors.py)
    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    MALFORMED_FORM = "malformed_form"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNSUPPORTED_CHARSET = "unsupported_charset"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    VALIDATION_FAILED = "validation_failed"
    FORBIDDEN_CHARACTERS = "forbidden_characters"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    ROUTE_NOT_FOUND = "route_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    GONE = "gone"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    # a value PostgreSQL refused that validation let through (storage/errors.py)
    ALREADY_EXISTS = "already_exists"
    STILL_REFERENCED = "still_referenced"
    REFERENCE_NOT_FOUND = "reference_not_found"
    CHECK_VIOLATION = "check_violation"
    MISSING_VALUE = "missing_value"
    INVALID_CHARACTERS = "invalid_characters"
    VALUE_TOO_LONG = "value_too_long"
    INVALID_VALUE = "invalid_value"
    VALUE_TOO_LARGE = "value_too_large"
    CONCURRENT_UPDATE = "concurrent_update"
    DATABASE_ERROR = "database_error"
    # credentials (guards.py, gateway/kernel/auth)
    INVALID_CREDENTIALS = "invalid_credentials"
    API_KEY_MISSING = "api_key_missing"
    INVALID_API_KEY = "invalid_api_key"
    MISSING_ABILITY = "missing_ability"
    XSRF_MISMATCH = "xsrf_mismatch"
    # accounts (accounts.py, storage/users.py)
    USER_EXISTS = "user_exists"
    ALREADY_TAKEN = "already_taken"
    INCORRECT_PASSWORD = "incorrect_password"
    USER_NOT_FOUND = "user_not_found"
    # Google sign-in (google_login.py, domain/oauth)
    OAUTH_NOT_CONFIGURED = "oauth_not_configured"
    OAUTH_CLIENT_REJECTED = "oauth_client_rejected"
    OAUTH_REDIRECT_MISMATCH = "oauth_redirect_mismatch"
    OAUTH_INVALID_CODE = "oauth_invalid_code"
    OAUTH_PROVIDER_ERROR = "oauth_provider_error"
    OAUTH_INVALID_CREDENTIAL = "oauth_invalid_credential"
    OAUTH_WRONG_AUDIENCE = "oauth_wrong_audience"
    OAUTH_INVALID_TOKEN = "oauth_invalid_token"
    OAUTH_EMAIL_MISSING = "oauth_email_missing"
    OAUTH_EMAIL_UNVERIFIED = "oauth_email_unverified"
    ACCOUNT_EXISTS_UNVERIFIED = "account_exists_unverified"
    PROVIDER_ACCOUNT_MISMATCH = "provider_account_mismatch"
    ACCOUNT_INACTIVE = "account_inactive"
    # pets (domain/care_pets.py)
    PET_NOT_FOUND = "pet_not_found"
    PET_FORBIDDEN = "pet_forbidden"
    GROUP_NOT_FOUND = "group_not_found"
    # groups (domain/groups.py)
    NOT_GROUP_MEMBER = "not_group_member"
    NOT_GROUP_CREATOR = "not_group_creator"
    GROUP_LIMIT_REACHED = "group_limit_reached"
    INVALID_INVITATION = "invalid_invitation"
    ALREADY_MEMBER = "already_member"
    GROUP_MEMBERS_FORBIDDEN = "group_members_forbidden"
    TARGET_NOT_MEMBER = "target_not_member"
    CREATOR_ROLE_UNASSIGNABLE = "creator_role_unassignable"
    CREATOR_ROLE_FIXED = "creator_role_fixed"
    CREATOR_NOT_REMOVABLE = "creator_not_removable"
    # meals (domain/meals.py)
    MEAL_NOT_FOUND = "meal_not_found"
    MEAL_FORBIDDEN = "meal_forbidden"
    MEAL_FOOD_UNAVAILABLE = "meal_food_unavailable"
    MEAL_SCOPE_REQUIRED = "meal_scope_required"
    MEAL_CONFLICT = "meal_conflict"
    # foods (domain/foods.py)
    FOOD_NOT_FOUND = "food_not_found"
    FOOD_FORBIDDEN = "food_forbidden"
    NUTRITION_OVER_LIMIT = "nutrition_over_limit"
    # pet and food photos (domain/care_photos.py)
    PHOTO_NOT_FOUND = "photo_not_found"
    FILE_EMPTY = "file_empty"
    FILE_TOO_LARGE = "file_too_large"
    INVALID_FILE_TYPE = "invalid_file_type"
    INVALID_IMAGE = "invalid_image"


class ErrorDetails(BaseModel):
    """The document's `details`, with the error's structured data beside the two named fields
    (429: `limit`, `retry_after`, `window_s` and the document's `window` in words; 413: `max_bytes`;
    403 missing_ability: `required`)."""

    model_config = ConfigDict(extra="allow")

    error_type: PetcareErrorCode
    field_errors: list[str] = Field(description="The request fields at fault (validation errors).")


class FieldProblem(BaseModel):
    """One entry of FastAPI's 422 `detail` list."""

    loc: list[str] = Field(description='Where: `["body", field, ...]`.')
    msg: str
    type: PetcareErrorCode


class PetcareError(BaseModel):
    """Every 002 error: the document's shape and FastAPI's `detail` in one body (envelope.py)."""

    status: Literal[0]
    data: None
    message: str
    details: ErrorDetails
    detail: str | list[FieldProblem] = Field(
        description="FastAPI's form: the message (`Not Found`, `Method Not Allowed` for the framework's own "
        "refusals), or one entry per field problem when the request's fields are at fault."
    )


def envelope_schema(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status", "data", "message"],
        "properties": {"status": {"const": 1}, "data": data, "message": {"type": "string"}},
    }


def _security_schemes(prefix: str) -> dict[str, dict[str, Any]]:
    return {
        # OAuth2's password grant at /auth/access_token (FastAPI's OAuth2PasswordBearer in the
        # reference): a path-absolute tokenUrl, which resolves the same against any server URL
        "oauth2": {
            "type": "oauth2",
            "description": "A JWT obtained with a username (or email) and password from /auth/access_token; "
            "sent as `Authorization: Bearer <jwt>`.",
            "flows": {"password": {"tokenUrl": f"{prefix}/auth/access_token", "scopes": {}}},
        },
        "jwt": {
            **security.JWT,
            "description": "A JWT from /auth/email/login, /auth/google/login or /auth/access_token.",
        },
        "pat": security.PAT,
        "session": security.SESSION,
        "xsrf": security.XSRF,
        "api_key": {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "An API key `<key_id>:<secret>` (`roost api-keys create`); guards /user/create.",
        },
        "api_key_bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The same API key as `Authorization: Bearer <key_id>:<secret>` (the reference's form).",
        },
    }


TAG_AUTH = "Authentication"
TAG_USERS = "User management"
TAG_PETS = "Pets"
TAG_GROUPS = "Groups"
TAG_MEALS = "Meals"
TAG_FOODS = "Foods"

# the counters on the answers of 002's throttled routes (sign-in and registration)
THROTTLED_HEADERS = {name: str(header["description"]) for name, header in RATE_LIMIT_HEADERS.items()}

SPEC = ContractSpec(
    key="petcare",
    title="Roost pet care API (002)",
    version="1.0.0",
    description=(
        "Accounts, pets, groups, foods and meals of the pet care app. Every success is HTTP 200 with "
        "`{status: 1, data, message}`; every error carries both the document's `{status: 0, data: null, "
        "message, details}` and FastAPI's `{detail}`."
    ),
    server="",
    envelope=envelope_schema,
    error_model=PetcareError,
    security_schemes=_security_schemes(""),
    throttle_headers={**RATE_LIMIT_HEADERS, **THROTTLE_HEADERS},
    # the root middleware refuses a query with a control character on every route, before any handler;
    # every route is rate limited (gateway/petcare/limits.py: per user, or per IP on sign-in)
    common_errors=(422, 429),
    tags=(
        {"name": TAG_AUTH, "description": "Sign-in: email and password, Google, and OAuth2's password grant."},
        {"name": TAG_USERS, "description": "Registration (API key), the profile and the password."},
        {"name": TAG_PETS, "description": "Pets (the same pets 000 serves), their group and the caller's relation."},
        {"name": TAG_GROUPS, "description": "Groups, invitation codes, members and roles, a group's pets."},
        {"name": TAG_MEALS, "description": "Meals with their nutrition, today's totals (held by actors), statistics."},
        {"name": TAG_FOODS, "description": "Each group's shared food database, its keyword search, food photos."},
    ),
)


def spec_for(prefix: str) -> ContractSpec:
    """SPEC served under PETCARE_PREFIX (the token URL moves with it)."""
    return replace(SPEC, server=prefix, security_schemes=_security_schemes(prefix))
