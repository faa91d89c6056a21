"""The one email rule: what every contract (000, 003, 002, 001's tenant admins) and `roost users
create` accept as an address for the one `users` table.

One rule, because an account is one row: an address one contract stores must be one every other
contract lets its owner sign in with (before this rule, 002 and the CLI accepted `josé@example.com`
and 003's login refused it with a 422).

How strict: what a mail system can deliver to, as real providers take it, and nothing that
cannot be an address.
- Internationalised addresses are addresses (SMTPUTF8, RFC 6531): a local part may hold any
  printable non-ASCII character (`josé@example.com`, `用户@例子.广告`), a domain may be an IDN
  whose labels encode to punycode (`ü@exämple.test`). Mail providers deliver to them today.
- The local part is a dot-atom (RFC 5322): the ASCII `atext` characters plus those non-ASCII ones,
  dots only between characters (no `.a`, `a.`, `a..b`), at most 64 octets in UTF-8 (RFC 5321).
  Quoted local parts (`"a b"@example.com`) are valid on paper and refused by providers' sign-up
  forms, and they put spaces and quotes into every place an address is shown: refused.
- The domain has at least two labels (`user@localhost` reaches no one on the internet), each
  1-63 octets in its ASCII form, letters, digits and inner hyphens; at most 253 octets in all; the
  last label is not all digits, and address literals (`user@[10.0.0.1]`) are refused: an account
  is not tied to an IP address.
- No whitespace or control characters anywhere; exactly one `@`.
- At most EMAIL_MAX characters: the contracts' documented bound (Laravel's max:255).
Case is kept as given; accounts are looked up case-insensitively (storage/users.py).
"""

from __future__ import annotations

import re

EMAIL_MAX = 255
LOCAL_MAX_OCTETS = 64
DOMAIN_MAX_OCTETS = 253
LABEL_MAX_OCTETS = 63

# RFC 5322 atext, ASCII part
_ATEXT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-")
_LDH_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _non_ascii_ok(ch: str) -> bool:
    # RFC 6531's UTF8-non-ascii, less what no address should hold: spaces and invisible or
    # control characters (str.isprintable is False for both)
    return ch >= "\x80" and ch.isprintable() and not ch.isspace()


def _local_ok(local: str) -> bool:
    if not local or len(local.encode("utf-8", "surrogatepass")) > LOCAL_MAX_OCTETS:
        return False
    atoms = local.split(".")
    return all(atom and all(ch in _ATEXT or _non_ascii_ok(ch) for ch in atom) for atom in atoms)


def _ascii_label(label: str) -> str | None:
    """The label as it travels in DNS (punycode for an IDN label), or None when it cannot."""
    if label.isascii():
        return label
    if not all(ch.isalnum() or ch == "-" for ch in label):
        return None
    try:
        return label.encode("idna").decode("ascii")
    except UnicodeError:  # not IDNA-encodable (nameprep refuses it, or too long)
        return None


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    ascii_labels = [_ascii_label(label) for label in labels]
    if any(a is None or len(a) > LABEL_MAX_OCTETS or not _LDH_LABEL.fullmatch(a) for a in ascii_labels):
        return False
    if len(".".join(a for a in ascii_labels if a)) > DOMAIN_MAX_OCTETS:
        return False
    return not labels[-1].isdigit()


def is_email(value: str) -> bool:
    """True when `value` is an address the rule above accepts (`value` as given, not stripped)."""
    if not isinstance(value, str) or not value or len(value) > EMAIL_MAX:
        return False
    local, at, domain = value.rpartition("@")
    if not at or "@" in local:
        return False
    return _local_ok(local) and _domain_ok(domain)
