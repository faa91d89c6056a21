"""Every overlay renders, every object validates against the pinned Kubernetes schemas and the
vendored CRD schemas, and Roost's rules hold (issue 15, items 2 and 3). Each check is also shown
catching a broken copy, so a pass means something."""

from __future__ import annotations

import copy
import json

import pytest

from tests.k8s import rules
from tests.k8s.manifests import (
    CRD_SCHEMAS,
    K8S,
    OVERLAYS,
    Obj,
    by_kind,
    one,
    pod_specs,
    problems,
    render,
    render_overlay,
)

# What item 2 asks for in every overlay, by kind (the prod overlay adds the CNPG Cluster)
REQUIRED = {
    "Deployment": 1,
    "Service": 1,
    "Ingress": 1,
    "HorizontalPodAutoscaler": 1,
    "PodDisruptionBudget": 1,
    "NetworkPolicy": 3,
    "ConfigMap": 1,
    "ServiceMonitor": 1,
    "RayCluster": 1,
    "Namespace": 1,
}


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Obj]]:
    return request.param, render_overlay(request.param)


def test_every_overlay_has_every_object(rendered: tuple[str, list[Obj]]) -> None:
    name, objs = rendered
    for kind, least in REQUIRED.items():
        assert len(by_kind(objs, kind)) >= least, f"{name}: fewer than {least} {kind}"
    clusters = by_kind(objs, "Cluster")
    assert [c["apiVersion"] for c in clusters] == (["postgresql.cnpg.io/v1"] if name == "prod" else [])
    # an external PostgreSQL by default, the CNPG Cluster's Services in prod
    postgres = [s for s in by_kind(objs, "Service") if s["metadata"]["name"] == "roost-postgres"]
    assert len(postgres) == (0 if name == "prod" else 1)
    # everything in the overlay's one namespace, which it creates
    (namespace,) = by_kind(objs, "Namespace")
    assert {o["metadata"].get("namespace") for o in objs if o["kind"] != "Namespace"} == {namespace["metadata"]["name"]}


def test_every_object_validates(rendered: tuple[str, list[Obj]]) -> None:
    name, objs = rendered
    found = [p for obj in objs for p in problems(obj)]
    assert found == [], f"{name}: " + "\n".join(found)
    # the custom resources were checked against a vendored schema, not waved through
    kinds = {(o["apiVersion"], o["kind"]) for o in objs}
    assert {k for k in CRD_SCHEMAS if k in kinds} >= {
        ("ray.io/v1", "RayCluster"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
    }


def test_base_renders_and_validates() -> None:
    objs = render("base")
    assert [p for obj in objs for p in problems(obj)] == []


@pytest.mark.parametrize("rule", rules.ALL_RULES, ids=lambda r: r.__name__)
def test_rules_hold(rendered: tuple[str, list[Obj]], rule) -> None:
    name, objs = rendered
    assert rule(objs) == [], name


def test_prod_reads_the_database_from_cnpg() -> None:
    objs = render_overlay("prod")
    cluster = one(objs, "Cluster", "roost-db")
    secret = f"{cluster['metadata']['name']}-app"  # the Secret CNPG writes for bootstrap.initdb's owner
    gw = one(objs, "Deployment", "roost-gateway")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in gw["env"] if "valueFrom" in e}
    assert refs["DATABASE_URL"] == {"name": secret, "key": "uri"}
    assert cluster["spec"]["imageName"].rsplit(":", 1)[1].split(".")[0] == "15"  # the tested PostgreSQL
    rc = one(objs, "RayCluster", "roost-ray")
    for _, _, pod in pod_specs(rc):
        env = {e["name"]: e for e in pod["containers"][0].get("env", [])}
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "uri"}


def test_schemas_are_vendored_with_their_source() -> None:
    sources = (K8S / "schemas" / "SOURCES.md").read_text()
    for file in CRD_SCHEMAS.values():
        schema = json.loads((K8S / "schemas" / file).read_text())
        assert schema["type"] == "object" and "spec" in schema["properties"], file
        assert file in sources, f"{file} has no source in SOURCES.md"


# --- the checks catch what they are for ---------------------------------------------------------


@pytest.fixture(scope="module")
def dev() -> list[Obj]:
    return render_overlay("dev")


def _gateway_pod(objs: list[Obj]) -> Obj:
    return one(objs, "Deployment", "roost-gateway")["spec"]["template"]["spec"]


def test_a_root_gateway_is_caught(dev: list[Obj]) -> None:
    objs = copy.deepcopy(dev)
    pod = _gateway_pod(objs)
    del pod["securityContext"]["runAsNonRoot"]
    pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    found = rules.pod_security(objs)
    assert "Deployment/roost-gateway: pod securityContext.runAsNonRoot is not true" in found
    assert "Deployment/roost-gateway container gateway: readOnlyRootFilesystem is not true" in found


def test_a_privileged_ray_worker_is_caught(dev: list[Obj]) -> None:
    objs = copy.deepcopy(dev)
    rc = one(objs, "RayCluster", "roost-ray")
    worker = rc["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    worker["securityContext"]["allowPrivilegeEscalation"] = True
    del worker["resources"]["limits"]
    found = rules.pod_security(objs)
    assert "RayCluster/roost-ray workers container ray-worker: allowPrivilegeEscalation is not false" in found
    assert "RayCluster/roost-ray workers container ray-worker: no limits.cpu" in found


def test_a_short_grace_period_and_wrong_probes_are_caught(dev: list[Obj]) -> None:
    objs = copy.deepcopy(dev)
    pod = _gateway_pod(objs)
    pod["terminationGracePeriodSeconds"] = 30  # Kubernetes' default: SIGKILL mid-drain
    pod["containers"][0]["readinessProbe"]["httpGet"]["path"] = "/healthz"
    found = rules.gateway_rules(objs)
    assert any(p.startswith("terminationGracePeriodSeconds 30 is not longer") for p in found), found
    assert any(p.startswith("readinessProbe is not an httpGet of /readyz") for p in found), found


def test_secret_values_are_caught(dev: list[Obj]) -> None:
    objs = copy.deepcopy(dev)
    objs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "roost-secrets"},
            "stringData": {"APP_KEY": "x" * 32},
        }
    )
    one(objs, "ConfigMap", "roost-config")["data"]["APP_KEY"] = "x" * 32
    _gateway_pod(objs)["containers"][0].setdefault("env", []).append({"name": "REDIS_URL", "value": "redis://r"})
    one(objs, "ConfigMap", "roost-config")["data"]["ROOST_SHARD"] = "4"  # a misspelt setting
    found = rules.secret_rules(objs)
    assert "Secret/roost-secrets: a Secret in the manifests (values belong to the operator)" in found
    assert "ConfigMap/roost-config: APP_KEY is a secret, not configuration" in found
    assert "Deployment/roost-gateway gateway: REDIS_URL has a literal value" in found
    assert "ConfigMap/roost-config: ROOST_SHARD is not a Roost setting (domain/settings.py)" in found


def test_ray_opened_to_everyone_is_caught(dev: list[Obj]) -> None:
    objs = copy.deepcopy(dev)
    one(objs, "NetworkPolicy", "roost-ray")["spec"]["ingress"].append({"from": [{"namespaceSelector": {}}]})
    one(objs, "NetworkPolicy", "roost-gateway-to-ray")["spec"]["egress"][0]["ports"] = [
        {"protocol": "TCP", "port": 6379}
    ]
    found = rules.network_rules(objs)
    assert any("{'namespaceSelector': {}} reaches" in p for p in found), found
    assert "gateways cannot reach Ray Client (port 10001)" in found


def test_miswired_names_are_caught(dev: list[Obj]) -> None:
    objs = copy.deepcopy(dev)
    one(objs, "ConfigMap", "roost-gateway-config")["data"]["RAY_ADDRESS"] = "ray://roost-head:10001"
    one(objs, "RayCluster", "roost-ray")["spec"]["enableInTreeAutoscaling"] = False
    one(objs, "ServiceMonitor", "roost-gateway")["spec"]["endpoints"][0]["port"] = "prometheus"
    found = rules.wiring_rules(objs)
    assert "RayCluster without the in-tree autoscaler" in found
    assert "ServiceMonitor/roost-gateway scrapes port prometheus of no Service" in found
    assert any(p.startswith("RAY_ADDRESS 'ray://roost-head:10001' is not") for p in found), found


def test_unshared_media_is_caught(dev: list[Obj]) -> None:
    objs = copy.deepcopy(dev)
    one(objs, "PersistentVolumeClaim", "roost-media")["spec"]["accessModes"] = ["ReadWriteOnce"]
    assert rules.media_rules(objs) == ["no ReadWriteMany roost-media claim"]


def test_schema_violations_are_caught(dev: list[Obj]) -> None:
    rc = copy.deepcopy(one(dev, "RayCluster", "roost-ray"))
    rc["spec"]["enableInTreeAutoscaler"] = True  # misspelt: KubeRay would prune it and not autoscale
    assert any("'enableInTreeAutoscaler' was unexpected" in p for p in problems(rc))
    deployment = copy.deepcopy(one(dev, "Deployment", "roost-gateway"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    assert any("'readinesProbe' was unexpected" in p for p in problems(deployment))
    monitor = copy.deepcopy(one(dev, "ServiceMonitor", "roost-gateway"))
    monitor["spec"]["endpoints"][0]["interval"] = "15 seconds"
    assert any("endpoints/0/interval" in p for p in problems(monitor))
    prod_cluster = copy.deepcopy(one(render_overlay("prod"), "Cluster", "roost-db"))
    prod_cluster["spec"]["instances"] = "three"
    assert problems(prod_cluster) == ["Cluster/roost-db: spec/instances: 'three' is not of type 'integer'"]
