"""Signed upload URLs: a URL names one upload and carries its expiry, and only the gateway can mint one.

The signature is HMAC-SHA256 over `<upload_id>.<expires>` with a key derived from APP_KEY for this
purpose alone, so a signature made for anything else (sessions, tokens) never verifies here, and
neither the upload id nor the expiry can be changed without invalidating it. Verification checks
the signature before the clock, so a tampered expiry is `invalid_signature`, never "not expired".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from urllib.parse import urlencode

from domain.errors import Forbidden

PURPOSE = b"event-uploads"
# unix seconds fit in 10 digits until 2286; anything longer is not one of ours
_EXPIRES = re.compile(r"^[0-9]{1,12}$")
# compare_digest refuses non-ASCII text, so the shape is checked first
_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")


def derive_key(app_key: str) -> bytes:
    return hmac.new(app_key.encode(), PURPOSE, hashlib.sha256).digest()


class UploadSigner:
    def __init__(self, app_key: str, *, clock: Callable[[], float] = time.time) -> None:
        self._key = derive_key(app_key)
        self._clock = clock

    def signature(self, upload_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{upload_id}.{expires}".encode(), hashlib.sha256).hexdigest()

    def expiry(self, ttl_s: int) -> int:
        return int(self._clock()) + ttl_s

    def query(self, upload_id: str, expires: int) -> str:
        return urlencode({"expires": expires, "signature": self.signature(upload_id, expires)})

    def url(self, base_url: str, upload_id: str, expires: int) -> str:
        return f"{base_url.rstrip('/')}/api/v1/uploads/{upload_id}?{self.query(upload_id, expires)}"

    def verify(self, upload_id: str, expires: str | None, signature: str | None) -> int:
        """The signed expiry (unix seconds). 403 `invalid_signature` for anything not signed by us
        for exactly this upload and expiry; 403 `upload_expired` for a genuine but stale URL."""
        if (
            not expires
            or not signature
            or not _EXPIRES.fullmatch(expires)
            or not _SIGNATURE.fullmatch(signature)
            or not hmac.compare_digest(self.signature(upload_id, int(expires)), signature.lower())
        ):
            raise Forbidden("The upload URL's signature is invalid.", code="invalid_signature")
        when = int(expires)
        if self._clock() > when:
            raise Forbidden("The upload URL has expired.", code="upload_expired", meta={"expired_at": when})
        return when
