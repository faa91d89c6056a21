"""Every code a 001 answer can put in `error.code`: the contract's stable names for clients.

The codes come from domain errors (domain/errors.py's defaults, the domain services, storage's
SQLSTATE mapping) and from 001's own handlers; gateway/events/messages.py localizes most of them.
tests/events/test_error_codes.py holds the catalogue and this enum together, and the response
validator fails any test whose answer carries a code that is not here.
"""

from __future__ import annotations

from enum import StrEnum


class EventsErrorCode(StrEnum):
    # the generic ones: one per status (domain/errors.py's defaults, the router's own answers)
    BAD_REQUEST = "bad_request"
    MALFORMED_JSON = "malformed_json"
    MALFORMED_FORM = "malformed_form"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    ROUTE_NOT_FOUND = "route_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    GONE = "gone"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNSUPPORTED_CHARSET = "unsupported_charset"
    VALIDATION_FAILED = "validation_failed"
    FORBIDDEN_CHARACTERS = "forbidden_characters"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"

    # credentials (gateway/kernel/auth) and 001's tenant guards and sign-in
    MISSING_ABILITY = "missing_ability"
    XSRF_MISMATCH = "xsrf_mismatch"
    NOT_A_TENANT_ADMIN = "not_a_tenant_admin"
    SUPER_ADMIN_REQUIRED = "super_admin_required"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_CODE = "invalid_code"

    # storage's SQLSTATE mapping (storage/errors.py): the net behind validation
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

    # events
    SLUG_TAKEN = "slug_taken"
    EVENT_LIMIT_REACHED = "event_limit_reached"
    EVENT_ARCHIVED = "event_archived"
    EVENT_NOT_FOUND = "event_not_found"
    EVENT_NOT_OPEN = "event_not_open"
    GALLERY_EXPIRED = "gallery_expired"
    INVALID_CURSOR = "invalid_cursor"

    # emotions and tasks
    GLOBAL_EMOTION_READONLY = "global_emotion_readonly"
    NOT_A_GLOBAL_TASK = "not_a_global_task"

    # guests' devices
    DEVICE_ID_REQUIRED = "device_id_required"
    DEVICE_ID_INVALID = "device_id_invalid"

    # uploads and photos
    PHOTO_LIMIT_EXCEEDED = "photo_limit_exceeded"
    UNSUPPORTED_PHOTO_TYPE = "unsupported_photo_type"
    PHOTO_TOO_LARGE = "photo_too_large"
    INVALID_SIGNATURE = "invalid_signature"
    UPLOAD_EXPIRED = "upload_expired"
    UPLOAD_ALREADY_RECEIVED = "upload_already_received"
    CONTENT_TYPE_MISMATCH = "content_type_mismatch"
    UPLOAD_INCOMPLETE = "upload_incomplete"
    INVALID_IMAGE = "invalid_image"
    IMAGE_TOO_LARGE_PIXELS = "image_too_large_pixels"
    INVALID_UPLOAD = "invalid_upload"
    UPLOAD_NOT_RECEIVED = "upload_not_received"
    UPLOAD_ALREADY_USED = "upload_already_used"
    PHOTO_NOT_FOUND = "photo_not_found"
    PHOTO_FAILED = "photo_failed"
    NO_PHOTOS = "no_photos"

    # purchases and webhooks (domain/purchases.py, domain/webhooks.py)
    PRODUCT_NOT_FOUND = "product_not_found"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    WEBHOOK_SIGNATURE_MISSING = "webhook_signature_missing"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    WEBHOOK_SIGNATURE_EXPIRED = "webhook_signature_expired"
    WEBHOOK_PAYLOAD_INVALID = "webhook_payload_invalid"
    WEBHOOK_NOT_CONFIGURED = "webhook_not_configured"

    # tenant settings (domain/tenant_settings.py)
    LIMIT_ABOVE_PACKAGE = "limit_above_package"
