"""The hosts of the multi-node run: network namespaces on one bridge, and what runs in them.

    10.77.0.1  rct-br0 (this machine's namespace): the test, and socat forwarding the machine's
               PostgreSQL and Redis (they listen on 127.0.0.1 only, which no namespace reaches)
    10.77.0.2  rct-head:   Ray head (GCS + raylet) and gateway A, a Ray driver beside that raylet
    10.77.0.3  rct-worker: Ray worker node and gateway B, a driver beside the worker's raylet

Gateways join the cluster as drivers (RAY_ADDRESS=<head>:<port>): `ray.init` then needs a raylet
on its own host, which is why each gateway shares a namespace with a node. Ray Client (`ray://`)
would let a gateway live elsewhere, but it needs `ray[client]` (grpcio), which Roost does not
install (k8s/README.md, "Reaching Ray").

Everything started here is a child of a namespace this module made, so `Topology.close()` ends
all of it by namespace (`ip netns pids`), then deletes the namespaces and the bridge; a run that
died half-way is swept the same way at the next start (`sweep`). Nothing else on the machine is
touched: our names all start with `rct-`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BRIDGE = "rct-br0"
HOST_IP = "10.77.0.1"
NODES = {"head": "10.77.0.2", "worker": "10.77.0.3"}
# 6379 is the machine's Redis (on loopback; the namespaces have their own loopback, but a port of
# our own keeps `ray start` from reading anything of the machine's)
RAY_PORT = 6390
GATEWAY_PORT = 8000
FORWARDS = {5432: 5432, 6379: 6379}  # bridge port -> the machine's loopback port
ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# GCS marks a node dead after `failure_threshold` failed health checks `period_ms` apart; Ray's
# defaults (3 s x 5) leave a dead node's actors unrestarted for 15 s or more. A short run asks the
# head for about 3 s, and the README says so next to the recovery figures.
HEAD_ENV = {
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


def ns(node: str) -> str:
    return f"rct-{node}"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def netns_pids(name: str) -> list[int]:
    out = _ip("netns", "pids", name, check=False).stdout
    return [int(p) for p in out.split()]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def kill_namespace(name: str) -> list[int]:
    """kill -9 every process in namespace `name` (a host losing power); the pids killed."""
    pids = netns_pids(name)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


def _our_forwards() -> list[int]:
    """socat processes listening on our bridge address (none but this test's binds there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            line = cmdline(int(entry.name))
            if "socat" in line.split(" ", 1)[0] and f"bind={HOST_IP}" in line:
                found.append(int(entry.name))
    return found


def sweep() -> None:
    """Whatever an earlier run of this test left: its processes, forwards, namespaces and bridge."""
    for pid in _our_forwards():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    existing = _ip("netns", "list", check=False).stdout.split()
    for node in NODES:
        if ns(node) in existing:
            kill_namespace(ns(node))
            _ip("netns", "del", ns(node), check=False)
        # a namespace is freed (and its veth end with it) only once its last process is gone
        _ip("link", "del", f"rct-{node}-h", check=False)
    _ip("link", "del", BRIDGE, check=False)


def netns_available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    probe = "rct-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


@dataclass
class Topology:
    """The namespaces, the forwards and every process started in them."""

    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="roost-cluster-")))
    ray_token: str = field(default_factory=lambda: secrets.token_hex(32))
    procs: list[subprocess.Popen] = field(default_factory=list)
    forwards: list[subprocess.Popen] = field(default_factory=list)

    @property
    def ray_address(self) -> str:
        return f"{NODES['head']}:{RAY_PORT}"

    def ray_env(self) -> dict[str, str]:
        """Ray's token authentication with a token of this run's own: the cluster answers on the
        bridge, and without it Ray 2.60 reads whatever ~/.ray/auth_token the machine holds."""
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.ray_token, "RAY_USAGE_STATS_ENABLED": "0"}

    def up(self) -> None:
        sweep()
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{HOST_IP}/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for node, address in NODES.items():
            name, host_end, ns_end = ns(node), f"rct-{node}-h", f"rct-{node}-n"
            _ip("netns", "add", name)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            _ip("link", "set", ns_end, "netns", name)
            _ip("link", "set", host_end, "master", BRIDGE)
            _ip("link", "set", host_end, "up")
            _ip("-n", name, "addr", "add", f"{address}/24", "dev", ns_end)
            _ip("-n", name, "link", "set", ns_end, "up")
            _ip("-n", name, "link", "set", "lo", "up")
            _ip("-n", name, "route", "add", "default", "via", HOST_IP)
        socat = shutil.which("socat")
        if socat is None:
            raise RuntimeError("socat is needed to reach the machine's PostgreSQL and Redis (apt-get install socat)")
        for listen, target in FORWARDS.items():
            self.forwards.append(subprocess.Popen(
                [socat, f"TCP-LISTEN:{listen},bind={HOST_IP},reuseaddr,fork", f"TCP:127.0.0.1:{target}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                # a group of its own: the children it forks per connection go with it (close)
                start_new_session=True,
            ))

    def log(self, name: str) -> Path:
        return self.work / f"{name}.log"

    def run_in(self, node: str, args: list[str], *, env: dict[str, str], log: str, **popen) -> subprocess.Popen:
        """A process in `node`'s namespace, its output in the run's folder."""
        out = self.log(log).open("ab")
        # actors/__init__.py sets this to "0" in a process without RAY_ADDRESS (this one): a local
        # Ray on loopback. Ray then refuses to join nodes, so our children must not inherit it.
        inherited = {k: v for k, v in os.environ.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns(node), *args], cwd=ROOT, env={**inherited, **env},
            stdout=popen.pop("stdout", out), stderr=out, **popen,
        )
        self.procs.append(proc)
        return proc

    def start_ray(self) -> None:
        common = ["--num-cpus=1", "--object-store-memory=200000000", "--disable-usage-stats"]
        temp = self.work / "ray"
        head = self.run_in("head", [str(VENV_BIN / "ray"), "start", "--head", f"--port={RAY_PORT}",
                                    f"--node-ip-address={NODES['head']}", "--include-dashboard=false",
                                    f"--temp-dir={temp}", *common],
                           env={**self.ray_env(), **HEAD_ENV}, log="ray-head")
        if head.wait(timeout=90) != 0:
            raise RuntimeError(f"ray start --head failed:\n{self.tail('ray-head')}")
        worker = self.run_in("worker", [str(VENV_BIN / "ray"), "start", f"--address={self.ray_address}",
                                        f"--node-ip-address={NODES['worker']}", *common],
                             env=self.ray_env(), log="ray-worker")
        if worker.wait(timeout=90) != 0:
            raise RuntimeError(f"ray start (worker) failed:\n{self.tail('ray-worker')}")

    def start_gateway(self, node: str, env: dict[str, str]) -> subprocess.Popen:
        data = self.work / f"gateway-{node}"
        data.mkdir(exist_ok=True)
        return self.run_in(
            node, [str(VENV_BIN / "roost"), "serve", "--host", NODES[node], "--port", str(GATEWAY_PORT)],
            env={**self.ray_env(), **env, "ROOST_DATA_DIR": str(data), "RAY_ADDRESS": self.ray_address},
            log=f"gateway-{node}",
        )

    def tail(self, name: str, lines: int = 30) -> str:
        try:
            return "\n".join(self.log(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def close(self) -> None:
        for node in NODES:
            kill_namespace(ns(node))
        for forward in self.forwards:
            try:
                os.killpg(forward.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in [*self.procs, *self.forwards]:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for node in NODES:
            # a process dying after the first pass (a worker Ray was still forking) holds nothing
            # once killed again; the namespace goes with its last process
            deadline = time.monotonic() + 5
            while netns_pids(ns(node)) and time.monotonic() < deadline:
                kill_namespace(ns(node))
                time.sleep(0.1)
            _ip("netns", "del", ns(node), check=False)
            _ip("link", "del", f"rct-{node}-h", check=False)
        _ip("link", "del", BRIDGE, check=False)
        if os.environ.get("ROOST_CLUSTER_KEEP_LOGS"):
            print(f"cluster logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
