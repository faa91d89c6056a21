"""The client's address: the TCP peer, or what trusted proxies say the client was.

aiohttp never rewrites `request.remote` from forwarded headers, so behind an ingress every
request's peer is the ingress, and every per-IP limit would be one bucket shared by the world.
Forwarded headers are believed only when the peer is one of `TRUSTED_PROXIES` (CIDRs), and
only the one header those proxies write (`TRUSTED_PROXY_HEADER`): a proxy that appends to
`X-Forwarded-For` passes a client's own `Forwarded` header through untouched, so believing
whichever is present would let the client choose.

The chain is walked from the right (the hop nearest to us) past trusted proxies; the first
address that is not one of ours is the client. Everything to its left was written by the client
or by proxies we know nothing about, so a forged left-most entry changes nothing. A malformed
entry stops the walk at the trusted hop that passed it on (one bucket for that proxy's garbage
rather than a key the client chose). When every hop is trusted (our own health checks), the
left-most one is the answer.

aiohttp-remotes does this as a middleware that clones every request (and its XForwardedStrict
answers 400 to a chain it does not expect); this is one function, computed on first use and
cached on the request, so requests that never ask pay nothing and there is still one root
middleware.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import hdrs, web

from gateway.kernel.keys import settings_key

UNKNOWN = "unknown"

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

_client_ip_key = web.RequestKey("client_ip", str)


def client_ip(request: web.BaseRequest) -> str:
    """The address every per-IP limit and every log line uses for this request."""
    config = getattr(request, "config_dict", None)
    trusted: Sequence[Network] = config[settings_key].trusted_proxies if config is not None else ()
    if not trusted:  # the usual deployment without an ingress: no header is ever believed
        return request.remote or UNKNOWN
    cached = request.get(_client_ip_key)
    if cached is None:
        header = config[settings_key].trusted_proxy_header if config is not None else "x-forwarded-for"
        cached = request[_client_ip_key] = resolve(request.remote, _chain(request, header), trusted)
    return cached


def resolve(peer: str | None, chain: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address, given the peer, the forwarded chain (left-most first) and the
    trusted networks. Pure, so the algorithm is tested on its own too."""
    hop = _parse(peer)
    if hop is None:
        return peer or UNKNOWN
    if not _is_trusted(hop, trusted):
        return str(hop)
    for entry in reversed(chain):
        address = _parse(entry)
        if address is None:
            break  # garbage from here on left: the trusted hop that passed it on is the answer
        hop = address
        if not _is_trusted(hop, trusted):
            break
    return str(hop)


def _chain(request: web.BaseRequest, header: str) -> list[str]:
    if header == "forwarded":
        return [element.get("for") or "" for element in request.forwarded]
    # several X-Forwarded-For lines mean the same as one comma-joined line (RFC 9110, 5.3)
    return [part.strip() for line in request.headers.getall(hdrs.X_FORWARDED_FOR, ()) for part in line.split(",")]


def _parse(value: str | None) -> IPAddress | None:
    """An address from a peer or forwarded entry: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`,
    `2001:db8::1`; None for anything else (`unknown`, `_hidden`, empty, junk)."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        value = value[1:end]
    elif value.count(":") == 1:  # IPv4 with a port (an IPv6 address has two colons at least)
        value = value.split(":", 1)[0]
    try:
        address = ip_address(value)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's ::ffff:1.2.3.4 is 1.2.3.4
    return address


def _is_trusted(address: IPAddress, trusted: Iterable[Network]) -> bool:
    return any(address in network for network in trusted)
