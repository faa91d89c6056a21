"""What every Locust user kind shares, so each file runs alone and all of them run together
(loadtests/mixed.py) under one command line.

- Options several files define (`--think`, `--max-failures`, `--quota`, `--hosts`) are added once,
  by whichever file's parser listener runs first; argparse refuses a second definition.
- `RoostUser`: a FastHttpUser that takes its gateway from `--hosts` (comma-separated base URLs,
  round robin over each kind's users as they start, so N gateways each get every N-th user of
  every kind) and tags each request with its kind and gateway in the request event's context
  (mixed.py's figures).
- Mixed mode: the per-file end-of-run reports print their own counts only and leave the verdict
  to mixed.py, which judges the whole run.
"""

from __future__ import annotations

import argparse
import itertools
import random
from typing import Any

from locust import FastHttpUser
from locust.env import Environment

_mode = {"mixed": False}
# one turn per kind: a single counter over all users could hand every user of one kind to the same
# gateway when the spawn order repeats with the gateways' period
_host_turns: dict[str, itertools.count] = {}


def set_mixed() -> None:
    _mode["mixed"] = True


def is_mixed() -> bool:
    return _mode["mixed"]


def add_option(group: Any, flag: str, **kwargs: Any) -> None:
    """group.add_argument unless another file's listener already added `flag` (groups share
    their parser's table of option strings)."""
    if flag not in group._option_string_actions:
        group.add_argument(flag, **kwargs)


def add_shared_options(group: Any) -> None:
    add_option(group, "--hosts", default="",
               help="comma-separated gateway base URLs; each user takes one, round robin (default: --host)")
    add_option(group, "--think", type=float, default=None,
               help="seconds between a user's actions, ±50%% (default: each kind's own)")
    add_option(group, "--max-failures", type=int, default=0, help="exit non-zero above this many failures")


def add_quota_option(group: Any) -> None:
    add_option(group, "--quota", type=int, default=0,
               help="daily /api quota per regular user (0: out of the way); its 429s are counted, not failed")


def parsed(environment: Environment, who: str) -> argparse.Namespace:
    opts = environment.parsed_options
    if opts is None:  # set whenever the locust command runs a locustfile, the one way these run
        raise SystemExit(f"{who} runs under the locust command")
    return opts


def hosts(environment: Environment) -> list[str]:
    opts = environment.parsed_options
    raw = getattr(opts, "hosts", "") if opts is not None else ""
    return [h.strip().rstrip("/") for h in raw.split(",") if h.strip()]


def first_host(environment: Environment) -> str | None:
    """The host setup steps talk to: --host, else the first of --hosts."""
    listed = hosts(environment)
    return environment.host or (listed[0] if listed else None)


def selected(environment: Environment, user_class: type) -> bool:
    """Whether `user_class` (or a subclass, as mixed.py declares them) takes part in this run:
    a file's setup step is skipped for kinds the command line left out."""
    classes = environment.user_classes or []
    return any(issubclass(c, user_class) for c in classes)


def quota_spent(resp: Any) -> bool:
    """The daily quota's 429 (its body carries `data.quota` with nothing remaining), not a
    minute throttle's."""
    try:
        quota = (resp.json().get("data") or {}).get("quota") or {}
    except ValueError:
        return False
    return quota.get("remaining") == 0


class RoostUser(FastHttpUser):
    abstract = True
    kind = "user"
    default_think = 1.0

    def __init__(self, environment: Environment) -> None:
        listed = hosts(environment)
        if listed:
            # an instance attribute: the runner copies --host onto the class at every spawn
            turn = _host_turns.setdefault(self.kind, itertools.count())
            self.host = listed[next(turn) % len(listed)]
        super().__init__(environment)

    def context(self) -> dict:
        return {"kind": self.kind, "host": self.host}

    @property
    def think(self) -> float:
        opts = self.environment.parsed_options
        chosen = getattr(opts, "think", None) if opts is not None else None
        return self.default_think if chosen is None else chosen

    def wait_time(self) -> float:
        return random.uniform(0.5 * self.think, 1.5 * self.think)


def error_code(resp: Any) -> str | None:
    """The 001 envelope's `error.code` of a Locust response (None for any other body)."""
    try:
        return resp.json()["error"]["code"]
    except Exception:  # not our envelope: not the "route missing" case
        return None
