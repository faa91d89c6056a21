"""Progress and warnings go to stderr: stdout carries nothing but the JSON lines."""

from __future__ import annotations

import sys
import time

_START = time.monotonic()


def progress(message: str) -> None:
    print(f"bench [{time.monotonic() - _START:6.1f}s] {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(f"bench WARNING: {message}", file=sys.stderr, flush=True)
