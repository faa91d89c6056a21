"""Shard actors that own hot per-entity state, and the gateway-side client that reaches them.

May import `domain` and `storage` (actors reload their state from the database); never `gateway`
(tests/test_import_rules.py holds it): what an actor needs travels in its calls.
"""

import os

# A local Ray instance otherwise advertises the machine's outward address and its processes talk
# over it; with no RAY_ADDRESS we want everything on loopback. Ray reads this flag at import time,
# so it is set before anything in this package imports ray. A real cluster (RAY_ADDRESS set)
# keeps Ray's own choice, which other nodes need.
if not os.environ.get("RAY_ADDRESS"):
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
