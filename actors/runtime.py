"""Connecting this process to Ray: a real cluster when RAY_ADDRESS is set, else a local instance."""

from __future__ import annotations

import logging

import ray

log = logging.getLogger(__name__)


def connect_ray(address: str | None, *, namespace: str, num_cpus: int | None = None) -> None:
    """Idempotent: a second call in the same process keeps the first connection."""
    if ray.is_initialized():
        return
    kwargs: dict = dict(
        namespace=namespace,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    if address:
        ray.init(address=address, **kwargs)
    else:
        # "local": always a fresh instance of our own. Without it ray.init joins whatever cluster
        # it finds on the machine (/tmp/ray/ray_current_cluster, the newest one started): an
        # embedded server or a test session would land on someone else's Ray, or hang on one that
        # is unreachable (seen: a head started in a network namespace).
        ray.init(address="local", num_cpus=num_cpus, **kwargs)
    log.info("ray connected", extra={"address": address or "local", "namespace": namespace})


def disconnect_ray() -> None:
    if ray.is_initialized():
        ray.shutdown()


def ray_alive() -> bool:
    """Cheap liveness: the GCS answers a cluster-resources query."""
    if not ray.is_initialized():
        return False
    try:
        return bool(ray.cluster_resources())
    except Exception:  # any failure talking to GCS means "not ready"
        return False
