"""`make k8s-scan`: checkov over every rendered overlay and the Dockerfile, with the skips of
k8s/checkov.yaml (each justified there). Exits non-zero on any finding.

Then a control: the dev overlay with its gateway made to run as root on a writable root
filesystem must fail the scan. A scanner that passes that copy is not scanning, and the run fails.

Runs in checkov's own venv (k8s/checkov-requirements.txt), so it imports only the standard library
and PyYAML (a checkov dependency), and renders with `kubectl kustomize` like tests/k8s/manifests.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
CONFIG = ROOT / "k8s" / "checkov.yaml"
# checks the control copy must fail: root containers (CKV_K8S_23), writable root filesystem (CKV_K8S_22)
CONTROL_CHECKS = {"CKV_K8S_22", "CKV_K8S_23"}


def checkov() -> str:
    found = shutil.which("checkov", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("checkov is not installed beside this Python: run `make k8s-scan`")
    return found


def render(overlay: str) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is not on PATH: `kubectl kustomize` renders the overlays (k8s/README.md)")
    return subprocess.run(
        [kubectl, "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def scan(path: Path, framework: str) -> dict[str, list[dict[str, Any]]]:
    """checkov's passed, failed and skipped checks for one file."""
    # --skip-download: no call to the vendor's platform (closed network; results stay local)
    proc = subprocess.run(
        [
            checkov(),
            "--config-file",
            str(CONFIG),
            "-f",
            str(path),
            "--framework",
            framework,
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"checkov failed on {path} ({proc.returncode}):\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    out: dict[str, list[dict[str, Any]]] = {"passed": [], "failed": [], "skipped": []}
    for r in reports:
        if "results" not in r:  # "no files found" for a framework
            continue
        for kind in out:
            out[kind] += r["results"].get(f"{kind}_checks", [])
    return out


def describe(check: dict[str, Any]) -> str:
    return f"{check['check_id']} {check['check_name']} ({check.get('resource')})"


def main() -> int:
    failures = 0
    with tempfile.TemporaryDirectory(prefix="roost-k8s-scan-") as tmp:
        targets = [(ROOT / "Dockerfile", "dockerfile")]
        for overlay in OVERLAYS:
            path = Path(tmp) / f"{overlay}.yaml"
            path.write_text(render(overlay))
            targets.append((path, "kubernetes"))
        for path, framework in targets:
            result = scan(path, framework)
            name = path.name
            print(
                f"checkov {name}: {len(result['passed'])} checks passed, {len(result['failed'])} findings, "
                f"{len(result['skipped'])} skipped inline (k8s/checkov.yaml's skips are not run at all)"
            )
            if not result["passed"]:
                print(f"  no check ran on {name}: the scanner saw nothing")
                failures += 1
            for check in result["failed"]:
                print(f"  FINDING {describe(check)}")
                failures += 1

        # the control: a gateway that runs as root with a writable root filesystem
        docs = [d for d in yaml.safe_load_all(render("dev")) if d]
        gateway = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "roost-gateway")
        pod = gateway["spec"]["template"]["spec"]
        del pod["securityContext"]["runAsNonRoot"]
        pod["securityContext"]["runAsUser"] = 0
        container = pod["containers"][0]["securityContext"]
        del container["runAsNonRoot"]
        container["runAsUser"] = 0
        container["readOnlyRootFilesystem"] = False
        control = Path(tmp) / "control-root-gateway.yaml"
        control.write_text(yaml.safe_dump_all(docs))
        caught = {c["check_id"] for c in scan(control, "kubernetes")["failed"]}
        missed = CONTROL_CHECKS - caught
        print(f"checkov control (a root gateway, writable root filesystem): caught {sorted(caught & CONTROL_CHECKS)}")
        if missed:
            print(f"  the scanner missed {sorted(missed)} on the control copy")
            failures += 1
    if failures:
        print(f"k8s-scan: {failures} problem(s)")
        return 1
    print("k8s-scan: no findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
