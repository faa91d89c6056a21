"""Rendering the Kustomize overlays and validating every object offline (issue 15, item 3).

Rendering is `kubectl kustomize` (the kustomize built into kubectl, which the project's machines
carry); validation is strict: core objects against the Kubernetes OpenAPI schemas of
`KUBERNETES_VERSION` shipped in the pinned `kubernetes-validate` package, custom resources against
the CRD schemas vendored in k8s/schemas/ (k8s/schemas/SOURCES.md: project, tag, commit). Strict
means an unknown field is an error, as the API server's strict field validation makes it: a
misspelt field would otherwise be pruned silently on apply.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = ("dev", "prod")
# The Kubernetes minor release the manifests target: autoscaling/v2, policy/v1, networking/v1 and
# the restricted Pod Security Standard are all GA there.
KUBERNETES_VERSION = "1.33.0"

# apiVersion, kind -> the vendored schema of that CRD version
CRD_SCHEMAS = {
    ("ray.io/v1", "RayCluster"): "ray.io_raycluster_v1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com_servicemonitor_v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com_prometheusrule_v1.json",
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io_cluster_v1.json",
}

Obj = dict[str, Any]


def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        # never a skip: CI must render (k8s/README.md says where kubectl comes from)
        raise RuntimeError("kubectl is not on PATH: `kubectl kustomize` renders the overlays (k8s/README.md)")
    return path


@cache
def _rendered_text(target: str) -> str:
    return subprocess.run(
        [kubectl(), "kustomize", str(K8S / target)], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def render(target: str) -> list[Obj]:
    """Every object `kubectl kustomize k8s/<target>` renders (target: base or overlays/<name>),
    freshly parsed on each call so a test may break its copy; rendered once per session."""
    return [doc for doc in yaml.safe_load_all(_rendered_text(target)) if doc]


def render_overlay(name: str) -> list[Obj]:
    return render(f"overlays/{name}")


def strict(schema: Any) -> Any:
    """The CRD schema with unknown fields refused wherever the API server would prune them: every
    object schema that lists its properties and neither allows nor preserves unknown ones."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads((K8S / "schemas" / CRD_SCHEMAS[(api_version, kind)]).read_text())
    return jsonschema.Draft7Validator(strict(schema))


def problems(obj: Obj) -> list[str]:
    """What is wrong with one object by its schema: empty when it validates."""
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    if key in CRD_SCHEMAS:
        return [
            f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in crd_validator(*key).iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(copy.deepcopy(obj), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{where}: no schema for {key} in Kubernetes {KUBERNETES_VERSION} nor k8s/schemas ({exc})"]
    except kubernetes_validate.ValidationError as exc:
        return [f"{where}: {'/'.join(map(str, exc.path))}: {exc.message}"]
    return []


def by_kind(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o["kind"] == kind]


def one(objs: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def pod_specs(obj: Obj) -> Iterator[tuple[str, Obj, Obj]]:
    """(where, pod template metadata, pod spec) of every pod template an object carries: workload
    kinds and the RayCluster's head and worker groups."""
    name = f"{obj['kind']}/{obj['metadata']['name']}"
    spec = obj.get("spec", {})
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        yield name, spec["template"].get("metadata", {}), spec["template"]["spec"]
    elif obj["kind"] == "CronJob":
        tpl = spec["jobTemplate"]["spec"]["template"]
        yield name, tpl.get("metadata", {}), tpl["spec"]
    elif obj["kind"] == "RayCluster":
        head = spec["headGroupSpec"]["template"]
        yield f"{name} head", head.get("metadata", {}), head["spec"]
        for group in spec.get("workerGroupSpecs", []):
            tpl = group["template"]
            yield f"{name} {group['groupName']}", tpl.get("metadata", {}), tpl["spec"]
