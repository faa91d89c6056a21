"""A tenant's notification webhook: which URLs it may be, how each delivery is signed, and where a
delivery may connect.

Signing. Every POST carries
  X-Roost-Signature: t=<unix seconds>,sha256=<hex>
where hex = HMAC-SHA256(the tenant's webhook secret, "<t>.<raw body>"), the same scheme as the
webhooks Roost itself accepts (domain/webhooks.py), plus X-Roost-Timestamp (= t),
X-Roost-Notification-Id and X-Roost-Notification-Type. A receiver recomputes the HMAC over the
bytes it got, compares in constant time, and refuses a `t` far from its own clock (a replay);
the notification id stays the same across retries, so it also deduplicates.

SSRF. The URL is the tenant's choice, and the request leaves from inside our network, so:
https only (plain http only in development or with NOTIFY_WEBHOOK_ALLOW_PRIVATE), no user info,
and no address that is not globally routable (loopback, private, link-local (cloud metadata),
shared, reserved, multicast) unless NOTIFY_WEBHOOK_ALLOW_PRIVATE (tests and development with a
local receiver). The settings route refuses such literals at once; the delivery resolves the
name itself, checks every address, and connects only to the addresses it checked (no second DNS
answer, so no rebinding), never following redirects.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Roost-Signature"
MAX_URL_CHARS = 2000
# 256 bits, URL-safe: long enough that it cannot be guessed, short enough to paste
SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class RefusedUrl(ValueError):
    """The URL may not be delivered to (the message says why, for the tenant and the log)."""


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    allow_private: bool
    allow_http: bool


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Roost-Signature value: `t=<timestamp>,sha256=<HMAC-SHA256 of "<t>.<body>">` (what
    domain/webhooks.py's `sign` makes; not imported from there, which imports moderation, which
    raises photo limit alerts)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},sha256={mac}"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not address.is_global or address.is_multicast


def check_url(url: str, policy: UrlPolicy) -> tuple[str, int]:
    """(host, port) of an acceptable webhook URL; RefusedUrl says why not. Names are not resolved
    here (the delivery does that, and checks what they resolve to)."""
    if len(url) > MAX_URL_CHARS or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise RefusedUrl("The URL is too long or contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedUrl("The URL is not valid.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise RefusedUrl("The URL must be an absolute https URL.")
    if scheme == "http" and not policy.allow_http:
        raise RefusedUrl("The URL must use https.")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("The URL may not contain a user name or password.")
    host = parts.hostname.lower().rstrip(".")
    if not policy.allow_private:
        address = _address(host)
        if (address is not None and _refused_address(address)) or host in _LOCAL_NAMES or host.endswith(".localhost"):
            raise RefusedUrl("The URL points at a private or local address.")
    return host, port or (443 if scheme == "https" else 80)


async def resolve_checked(host: str, port: int, policy: UrlPolicy) -> list[tuple[socket.AddressFamily, str]]:
    """Every address `host` resolves to, each checked; RefusedUrl if any is refused (a name with
    one private address among public ones is still a way in) or there is none."""
    literal = _address(host)
    if literal is not None:
        found = [(socket.AF_INET6 if literal.version == 6 else socket.AF_INET, str(literal))]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
            raise RefusedUrl(f"The host {host!r} cannot be resolved: {exc}") from None
        found = list(dict.fromkeys((socket.AddressFamily(info[0]), str(info[4][0])) for info in infos))
    if not found:
        raise RefusedUrl(f"The host {host!r} has no address.")
    if not policy.allow_private:
        for _, raw in found:
            address = _address(raw)
            if address is None or _refused_address(address):
                raise RefusedUrl(f"The host {host!r} resolves to a private or local address.")
    return found
