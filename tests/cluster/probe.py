"""A Ray driver on the head host that the multi-node test asks about the cluster: one JSON request
per line on stdin, one JSON answer per line on stdout.

It runs in the head's namespace because a driver needs a raylet on its own host, and the test
itself (on the bridge) has none. It creates the shard actors through the gateways' own client
(`ShardClient.start`, get-if-exists by name), so the gateways find exactly these.

    {"op": "start", "dsn": ..., "shards": N}    -> {"created": [names]}
    {"op": "placement"}                          -> {"nodes": [...], "actors": [...]}
    {"op": "recover", "names": [...], "since": t, "timeout": s}
        -> {"recovered": {name: seconds from `since` (wall clock) to its first answered call}}
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import ray

from actors.client import ShardClient
from actors.kinds import KINDS
from actors.runtime import connect_ray
from actors.sharding import actor_name


def placement() -> dict[str, Any]:
    nodes = [{"id": n["NodeID"], "ip": n["NodeManagerAddress"], "alive": n["Alive"]} for n in ray.nodes()]
    actors = [
        {
            "name": a["Name"],
            "state": a["State"],
            "node_id": a["Address"]["NodeID"],
            "ip": a["Address"]["IPAddress"],
            "restarts": a["NumRestarts"],
        }
        for a in ray._private.state.actors().values()
        if "-shard-" in a["Name"] and a["State"] != "DEAD"
    ]
    return {"nodes": nodes, "actors": actors}


def start(namespace: str, dsn: str, shards: int) -> dict[str, Any]:
    async def resolve() -> None:
        for kind in KINDS:
            client = ShardClient(kind, shards=shards, dsn=dsn, namespace=namespace)
            await client.start()
            # a first call waits for each actor to exist: placement is then final
            await asyncio.gather(*(client.handle(s).ping.remote() for s in range(shards)))

    asyncio.run(resolve())
    return {"created": [actor_name(kind, s) for kind in KINDS for s in range(shards)]}


def recover(namespace: str, names: list[str], since: float, timeout: float) -> dict[str, Any]:
    """Ping each actor until it answers; a call that fails (its worker died with the node) is sent
    again, one that is merely slow (the actor restarting) is waited for."""
    handles = {name: ray.get_actor(name, namespace=namespace) for name in names}
    pending = {handles[name].ping.remote(): name for name in names}
    recovered: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        done, _ = ray.wait(list(pending), num_returns=1, timeout=0.05)
        for ref in done:
            name = pending.pop(ref)
            try:
                ray.get(ref)
            except Exception:
                time.sleep(0.05)
                pending[handles[name].ping.remote()] = name
                continue
            recovered[name] = round(time.time() - since, 2)
    return {"recovered": recovered, "missing": sorted(pending.values())}


def main() -> None:
    address, namespace = sys.argv[1], sys.argv[2]
    # the answers get the real stdout to themselves; anything Ray prints (a worker's death
    # notice, say) goes to stderr, the probe's log
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    connect_ray(address, namespace=namespace)
    print(json.dumps({"ready": True}), file=answers, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "start":
                answer = start(namespace, req["dsn"], req["shards"])
            elif req["op"] == "placement":
                answer = placement()
            elif req["op"] == "recover":
                answer = recover(namespace, req["names"], req["since"], req["timeout"])
            else:
                answer = {"error": f"unknown op {req['op']!r}"}
        except Exception as exc:  # the test reports it; the probe stays up for the next request
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), file=answers, flush=True)


if __name__ == "__main__":
    main()
