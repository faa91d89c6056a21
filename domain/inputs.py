"""What client input may be: integers in ASCII only, text free of code points nothing downstream takes.

Every contract parses ids, page numbers, limits, cursors and token ids through `parse_int`; a
hand-rolled `raw.isdigit()` lets `²` through (then `int()` raises: a 500) and `int("１")` is 1, so
`/api/pets/１` would have been pet 1. Strings are checked against `FORBIDDEN` once, at the body
and URL boundary (gateway/kernel/validation.py): PostgreSQL refuses NUL in text (SQLSTATE 22021), a lone
surrogate cannot be encoded to UTF-8 at all, and C0 controls in a name or a log line are an
injection waiting for a renderer. `scrub` is for text we must keep whatever it holds (logs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# PostgreSQL's bigint: every id column and every offset we compute from a client's number
BIGINT_MAX = 2**63 - 1
# 18 digits always fit a bigint, so callers that bound by digits alone never reach the database
# with a number it cannot hold; 19 is allowed with the value check below.
DEFAULT_MAX_DIGITS = 18

# `[0-9]`, not `\d`: in a str pattern `\d` matches every Unicode decimal digit (`١`, `１`).
# No leading zeros: an id has one spelling, and `007` is not a page number a client ever sends.
_UNSIGNED = re.compile(r"0|[1-9][0-9]*")
_SIGNED = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")

# NUL and the other C0 controls but tab, LF and CR; every surrogate (a Python str only holds one
# unpaired: JSON pairs are joined by the parser, header bytes that are not UTF-8 become \udcXX).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# single-line values (header-like, keys, path segments): no line breaks either
FORBIDDEN_IN_LINE = re.compile("[\x00-\x1f\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def parse_int(raw: object, *, signed: bool = False, max_digits: int = DEFAULT_MAX_DIGITS) -> int | None:
    """A decimal integer spelt in ASCII (no spaces, no `_`, no leading zeros, a sign only when
    `signed`), at most `max_digits` digits and within a bigint; None for anything else."""
    if not isinstance(raw, str) or not raw or len(raw) > max_digits + 1:
        return None
    if not (_SIGNED if signed else _UNSIGNED).fullmatch(raw):
        return None
    if len(raw.lstrip("+-")) > max_digits:
        return None
    value = int(raw)
    return value if -BIGINT_MAX <= value <= BIGINT_MAX else None


def parse_positive_int(raw: object, *, max_digits: int = DEFAULT_MAX_DIGITS) -> int | None:
    """`parse_int` for ids and page numbers: 1 or more, else None."""
    value = parse_int(raw, max_digits=max_digits)
    return value if value is not None and value >= 1 else None


def has_forbidden(text: str, *, single_line: bool = False) -> bool:
    return (FORBIDDEN_IN_LINE if single_line else FORBIDDEN).search(text) is not None


def forbidden_fields(value: Any) -> Iterator[tuple[tuple[str | int, ...], bool]]:
    """Where a parsed body (dicts, lists, strings) holds forbidden code points: the path of each
    offending value, and whether it is the key (True) or the value (False).

    Iterative, not recursive: a JSON document may nest 1,024 deep (orjson's limit), deeper than
    Python's default recursion limit.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if FORBIDDEN.search(node):
                yield path, False
        elif isinstance(node, dict):
            for key, child in node.items():
                key_text = str(key)
                if FORBIDDEN_IN_LINE.search(key_text):
                    yield (*path, key_text), True
                    continue
                stack.append(((*path, key_text), child))
        elif isinstance(node, list):
            stack.extend(((*path, i), child) for i, child in enumerate(node))


def scrub(text: str, max_len: int) -> str:
    """`text` as something any store takes: forbidden code points replaced, at most `max_len`."""
    if FORBIDDEN.search(text):
        text = FORBIDDEN.sub(REPLACEMENT, text)
    return text if len(text) <= max_len else text[:max_len]
