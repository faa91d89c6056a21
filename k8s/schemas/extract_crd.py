"""Turn a CustomResourceDefinition (YAML, read from stdin) into the JSON schema files vendored here:
one file per served version, `<group>_<kind>_<version>.json` (lower case), holding that version's
openAPIV3Schema with the `description` texts dropped (they are documentation, not rules, and make
up most of the bytes). Nothing else is changed: the tests add the strictness (unknown fields are
errors) when they load a file, so what is vendored stays the upstream schema.

    git show v1.7.0:ray-operator/config/crd/bases/ray.io_rayclusters.yaml \
        | python k8s/schemas/extract_crd.py k8s/schemas

SOURCES.md says where each file came from, at which tag and commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml


def strip_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        # a property may itself be called "description" (a field of the resource): keep those
        return {k: strip_descriptions(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip_descriptions(v) for v in node]
    return node


def main(out_dir: str) -> None:
    crd = yaml.safe_load(sys.stdin)
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    for version in crd["spec"]["versions"]:
        if not version.get("served", True):
            continue
        schema = strip_descriptions(version["schema"]["openAPIV3Schema"])
        path = Path(out_dir) / f"{group}_{kind}_{version['name']}.json".lower()
        path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        print(path)


if __name__ == "__main__":
    main(sys.argv[1])
