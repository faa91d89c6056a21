"""Roost's own rules for the rendered manifests, beyond what the schemas and the scanner check:
each function returns what is wrong (empty when nothing is), so a test can show both that the
real manifests pass and that a broken copy is caught."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from domain.settings import Settings
from gateway.kernel.contracts import OPS_PATHS
from tests.k8s.manifests import ROOT, Obj, by_kind, pod_specs

# The only Secrets the manifests may name; the operator (or CNPG, cert-manager) creates them
# (k8s/README.md, "Secrets"). Their values are never in the repository.
SECRET_NAMES = frozenset({"roost-secrets", "roost-db-app", "roost-tls"})
# Setting names that hold secrets: never a literal value, never in a ConfigMap
SECRETISH = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|CREDENTIAL)|^(DATABASE_URL|REDIS_URL)$")

GATEWAY_UID = 10001
PRESTOP_SLEEP_S_MAX = 30  # a longer pause would hide a real drain bug behind waiting


def drain_seconds() -> float:
    """How long `roost serve` waits for in-flight requests after SIGTERM: aiohttp's run_app
    default, since gateway/ops/serve.py passes no shutdown_timeout of its own."""
    serve_py = (ROOT / "gateway" / "ops" / "serve.py").read_text()
    assert "shutdown_timeout" not in serve_py, "serve.py sets shutdown_timeout: read it from there"
    return float(inspect.signature(web.run_app).parameters["shutdown_timeout"].default)


def _containers(pod: Obj) -> list[Obj]:
    return list(pod.get("initContainers", [])) + list(pod["containers"])


def pod_security(objs: list[Obj]) -> list[str]:
    """Every pod (Deployments and the RayCluster's groups alike): non-root by uid, no privilege
    escalation, a read-only root filesystem, no capabilities, RuntimeDefault seccomp, requests
    and limits, a pinned image."""
    out: list[str] = []
    for obj in objs:
        for where, _meta, pod in pod_specs(obj):
            psc = pod.get("securityContext", {})
            if psc.get("runAsNonRoot") is not True:
                out.append(f"{where}: pod securityContext.runAsNonRoot is not true")
            if psc.get("runAsUser", 0) == 0:
                out.append(f"{where}: pod securityContext.runAsUser is root or unset")
            if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                out.append(f"{where}: pod seccompProfile is not RuntimeDefault")
            if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
                out.append(f"{where}: shares a host namespace")
            for c in _containers(pod):
                cw = f"{where} container {c['name']}"
                sc = c.get("securityContext", {})
                if sc.get("allowPrivilegeEscalation") is not False:
                    out.append(f"{cw}: allowPrivilegeEscalation is not false")
                if sc.get("privileged"):
                    out.append(f"{cw}: privileged")
                if sc.get("readOnlyRootFilesystem") is not True:
                    out.append(f"{cw}: readOnlyRootFilesystem is not true")
                if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                    out.append(f"{cw}: capabilities do not drop ALL")
                if sc.get("capabilities", {}).get("add"):
                    out.append(f"{cw}: adds capabilities")
                if sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
                    out.append(f"{cw}: runs as root")
                res = c.get("resources", {})
                for part in ("requests", "limits"):
                    for name in ("cpu", "memory"):
                        if name not in res.get(part, {}):
                            out.append(f"{cw}: no {part}.{name}")
                image = c.get("image", "")
                if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
                    out.append(f"{cw}: image {image!r} is not pinned to a tag")
    return out


def gateway_rules(objs: list[Obj]) -> list[str]:
    """The gateway Deployment: its probes on the ops paths, the shutdown budget, the uid the image
    runs as, ports, and only secret references."""
    out: list[str] = []
    deps = [d for d in by_kind(objs, "Deployment") if d["metadata"]["name"] == "roost-gateway"]
    if len(deps) != 1:
        return [f"{len(deps)} roost-gateway Deployments"]
    pod = deps[0]["spec"]["template"]["spec"]
    gw = next((c for c in pod["containers"] if c["name"] == "gateway"), None)
    if gw is None:
        return ["no gateway container"]
    ports = {p["name"]: p["containerPort"] for p in gw.get("ports", [])}
    if ports.get("http") != 8000 or ports.get("metrics") != 9100:
        out.append(f"container ports {ports} are not http 8000 and metrics 9100")
    want = {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for probe, path in want.items():
        got = gw.get(probe, {}).get("httpGet", {})
        if got.get("path") != path:
            out.append(f"{probe} is not an httpGet of {path} (got {got or 'none'})")
        elif got.get("path") not in OPS_PATHS:
            out.append(f"{probe} path {path} is not a route of the gateway")
        if got and got.get("port") not in ("http", 8000):
            out.append(f"{probe} is not on the public port")
    sleep = 0.0
    pre = gw.get("lifecycle", {}).get("preStop", {})
    if "exec" in pre:
        cmd = pre["exec"]["command"]
        if cmd[:1] == ["sleep"]:
            sleep = float(cmd[1])
    if sleep > PRESTOP_SLEEP_S_MAX:
        out.append(f"preStop sleeps {sleep} s")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= sleep + drain_seconds():
        out.append(
            f"terminationGracePeriodSeconds {grace} is not longer than the preStop pause ({sleep} s)"
            f" plus the drain ({drain_seconds()} s)"
        )
    uid = pod.get("securityContext", {}).get("runAsUser")
    if uid != GATEWAY_UID:
        out.append(f"pod runAsUser {uid} is not the image's USER {GATEWAY_UID}")
    if pod.get("automountServiceAccountToken") is not False:
        out.append("the gateway mounts a service account token it never uses")
    mounts = {m["mountPath"] for m in gw.get("volumeMounts", [])}
    for path in ("/tmp", "/var/lib/roost", "/var/lib/roost/media"):
        if path not in mounts:
            out.append(f"nothing writable mounted at {path} under a read-only root")
    return out


def secret_rules(objs: list[Obj]) -> list[str]:
    """No Secret objects and no secret values: secret-looking settings come only by reference, to
    the documented Secrets; ConfigMaps hold only known, non-secret settings."""
    out: list[str] = []
    fields = {name.upper() for name in Settings.model_fields}
    for obj in objs:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Secret":
            out.append(f"{where}: a Secret in the manifests (values belong to the operator)")
        if obj["kind"] == "ConfigMap":
            for key in obj.get("data", {}):
                if SECRETISH.search(key):
                    out.append(f"{where}: {key} is a secret, not configuration")
                # Grafana's sidecar ConfigMap holds the dashboard, not settings
                if key not in fields and obj["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
                    out.append(f"{where}: {key} is not a Roost setting (domain/settings.py)")
        for pwhere, _meta, pod in pod_specs(obj):
            for c in _containers(pod):
                for env in c.get("env", []):
                    if "value" in env and SECRETISH.search(env["name"]):
                        out.append(f"{pwhere} {c['name']}: {env['name']} has a literal value")
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref and ref["name"] not in SECRET_NAMES:
                        out.append(f"{pwhere} {c['name']}: {env['name']} names Secret {ref['name']}")
                for src in c.get("envFrom", []):
                    ref = src.get("secretRef")
                    if ref and ref["name"] not in SECRET_NAMES:
                        out.append(f"{pwhere} {c['name']}: envFrom Secret {ref['name']}")
        if obj["kind"] == "Ingress":
            for tls in obj["spec"].get("tls", []):
                if tls.get("secretName") not in SECRET_NAMES:
                    out.append(f"{where}: TLS Secret {tls.get('secretName')}")
        if obj["kind"] == "ServiceMonitor":
            for ep in obj["spec"]["endpoints"]:
                cred = ep.get("authorization", {}).get("credentials", {})
                if cred.get("name") not in SECRET_NAMES:
                    out.append(f"{where}: scrapes without the METRICS_TOKEN Secret")
    return out


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        present = expr["key"] in labels
        if expr["operator"] == "In" and labels.get(expr["key"]) not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and labels.get(expr["key"]) in expr["values"]:
            return False
        if expr["operator"] == "Exists" and not present:
            return False
        if expr["operator"] == "DoesNotExist" and present:
            return False
    return True


def _pod_labels(objs: list[Obj]) -> dict[str, dict[str, str]]:
    """where -> the labels of every pod template (CNPG's pods: the label CNPG puts on them)."""
    labels = {where: meta.get("labels", {}) for obj in objs for where, meta, _ in pod_specs(obj)}
    for cluster in by_kind(objs, "Cluster"):
        labels[f"Cluster/{cluster['metadata']['name']}"] = {"cnpg.io/cluster": cluster["metadata"]["name"]}
    return labels


def network_rules(objs: list[Obj]) -> list[str]:
    """A default deny; nothing but the gateways and Ray's own pods reaches Ray; the gateways may
    reach PostgreSQL, Redis and Ray."""
    out: list[str] = []
    policies = by_kind(objs, "NetworkPolicy")
    if not any(
        p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in policies
    ):
        out.append("no default-deny NetworkPolicy")
    pods = _pod_labels(objs)
    ray = {w: lab for w, lab in pods.items() if lab.get("app.kubernetes.io/component") == "ray"}
    gateway = {w: lab for w, lab in pods.items() if lab.get("app.kubernetes.io/component") == "gateway"}
    allowed_into_ray = {**ray, **gateway}
    for p in policies:
        selected = [w for w, lab in ray.items() if _matches(p["spec"]["podSelector"], lab)]
        if not selected or "Ingress" not in p["spec"]["policyTypes"]:
            continue
        for rule in p["spec"].get("ingress", []):
            peers = rule.get("from")
            if not peers:
                out.append(f"NetworkPolicy/{p['metadata']['name']}: anyone reaches {selected}")
                continue
            for peer in peers:
                if "ipBlock" in peer or "namespaceSelector" in peer:
                    out.append(f"NetworkPolicy/{p['metadata']['name']}: {peer} reaches {selected}")
                elif not any(_matches(peer["podSelector"], lab) for lab in allowed_into_ray.values()) or any(
                    _matches(peer["podSelector"], lab) for w, lab in pods.items() if w not in allowed_into_ray
                ):
                    out.append(f"NetworkPolicy/{p['metadata']['name']}: {peer} reaches {selected}")
    if not gateway:
        return out + ["no gateway pods"]
    gw_labels = next(iter(gateway.values()))
    egress_ports: set[int] = set()
    for p in policies:
        if "Egress" in p["spec"]["policyTypes"] and _matches(p["spec"]["podSelector"], gw_labels):
            for rule in p["spec"].get("egress", []):
                egress_ports |= {port["port"] for port in rule.get("ports", [])}
    for port, what in ((5432, "PostgreSQL"), (6379, "Redis"), (10001, "Ray Client"), (53, "DNS")):
        if port not in egress_ports:
            out.append(f"gateways cannot reach {what} (port {port})")
    return out


def wiring_rules(objs: list[Obj]) -> list[str]:
    """Names that must agree across objects: selectors find the gateway pods, the HPA scales the
    Deployment, the ServiceMonitor scrapes a port the Service has, RAY_ADDRESS is the head's
    Ray Client port, and the autoscaler is KubeRay's in-tree one."""
    out: list[str] = []
    pods = _pod_labels(objs)
    gateway = [lab for lab in pods.values() if lab.get("app.kubernetes.io/component") == "gateway"]
    for kind in ("Service", "PodDisruptionBudget"):
        for obj in by_kind(objs, kind):
            if obj["metadata"]["name"] != "roost-gateway":
                continue  # the external Services have no selector
            sel = obj["spec"]["selector"]
            if kind == "Service":
                sel = {"matchLabels": sel}
            if not any(_matches(sel, lab) for lab in gateway):
                out.append(f"{kind}/{obj['metadata']['name']} selects no gateway pod")
    services = {s["metadata"]["name"]: s for s in by_kind(objs, "Service")}
    for sm in by_kind(objs, "ServiceMonitor"):
        targets = [s for s in services.values() if _matches(sm["spec"]["selector"], s["metadata"].get("labels", {}))]
        ports = {p.get("name") for s in targets for p in s["spec"].get("ports", [])}
        for ep in sm["spec"]["endpoints"]:
            if ep.get("port") not in ports:
                out.append(f"ServiceMonitor/{sm['metadata']['name']} scrapes port {ep.get('port')} of no Service")
    for hpa in by_kind(objs, "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if not any(d["metadata"]["name"] == ref["name"] for d in by_kind(objs, ref["kind"])):
            out.append(f"HPA/{hpa['metadata']['name']} scales {ref['kind']}/{ref['name']}, which is not rendered")
    for ing in by_kind(objs, "Ingress"):
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                svc = path["backend"]["service"]
                names = {p.get("name") for p in services.get(svc["name"], {}).get("spec", {}).get("ports", [])}
                if svc["port"].get("name") != "http" or svc["port"].get("name") not in names:
                    out.append(f"Ingress/{ing['metadata']['name']} routes to {svc} (only the http port)")
    rays = by_kind(objs, "RayCluster")
    if len(rays) != 1:
        return out + [f"{len(rays)} RayClusters"]
    rc = rays[0]
    if rc["spec"].get("enableInTreeAutoscaling") is not True:
        out.append("RayCluster without the in-tree autoscaler")
    for g in rc["spec"]["workerGroupSpecs"]:
        if not g.get("minReplicas", 0) <= g.get("replicas", 0) <= g.get("maxReplicas", 0):
            out.append(f"worker group {g['groupName']}: replicas outside [minReplicas, maxReplicas]")
    head = rc["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head_ports = {p["containerPort"] for p in head.get("ports", [])}
    config = {k: v for cm in by_kind(objs, "ConfigMap") for k, v in cm.get("data", {}).items()}
    want = f"ray://{rc['metadata']['name']}-head-svc:10001"
    if config.get("RAY_ADDRESS") != want or 10001 not in head_ports:
        out.append(f"RAY_ADDRESS {config.get('RAY_ADDRESS')!r} is not {want} on a head exposing 10001")
    for where, _meta, pod in pod_specs(rc):
        for c in pod["containers"]:
            for src in c.get("envFrom", []):
                if src.get("configMapRef", {}).get("name") == "roost-gateway-config":
                    out.append(f"{where}: gets the gateways' config (RAY_ADDRESS is KubeRay's there)")
    return out


def media_rules(objs: list[Obj]) -> list[str]:
    """Gateways and the Ray workers (image jobs) share the media folder: one ReadWriteMany claim
    mounted at the same path in both."""
    out: list[str] = []
    claims = {c["metadata"]["name"]: c for c in by_kind(objs, "PersistentVolumeClaim")}
    media = claims.get("roost-media")
    if media is None or "ReadWriteMany" not in media["spec"]["accessModes"]:
        return ["no ReadWriteMany roost-media claim"]
    for obj in objs:
        for where, _meta, pod in pod_specs(obj):
            if "head" in where:
                continue  # the head runs no job task (num-cpus 0)
            vols = {
                v["name"]
                for v in pod.get("volumes", [])
                if v.get("persistentVolumeClaim", {}).get("claimName") == "roost-media"
            }
            paths = {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", []) if m["name"] in vols}
            if paths != {str(Path("/var/lib/roost") / "media")}:
                out.append(f"{where}: media mounted at {paths or 'nowhere'}")
    return out


ALL_RULES = (pod_security, gateway_rules, secret_rules, network_rules, wiring_rules, media_rules)
