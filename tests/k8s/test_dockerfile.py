"""The Dockerfile against issue 15's rules, statically (tests/k8s/dockerfile_rules.py), and each
rule shown catching a broken copy."""

from __future__ import annotations

import pytest

from tests.k8s import dockerfile_rules
from tests.k8s.manifests import ROOT, one, render_overlay

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_dockerfile_follows_the_rules() -> None:
    assert dockerfile_rules.problems(DOCKERFILE) == []


def test_the_ray_version_is_the_clusters() -> None:
    _, stages = dockerfile_rules.parse(DOCKERFILE)
    for overlay in ("dev", "prod"):
        rc = one(render_overlay(overlay), "RayCluster", "roost-ray")
        assert dockerfile_rules.arg_default(stages, "RAY_VERSION") == rc["spec"]["rayVersion"]


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".env", ".venv", "var", "tests"} <= ignored


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("USER 10001:10001\n", "", "no USER in the final stage: the image runs as root"),
        (
            "USER 10001:10001\n",
            "USER root\n",
            "USER root: must be a numeric non-root uid (runAsNonRoot checks the number)",
        ),
        (
            "python:3.11.7-slim-bookworm AS runtime",
            "python:3.11 AS runtime",
            "FROM python:3.11: not a slim base pinned to a full version tag",
        ),
        (
            "python:3.11.7-slim-bookworm AS runtime",
            "python:3.12.1-slim-bookworm AS runtime",
            "the final stage's base python:3.12.1-slim-bookworm is not the build stage's python:3.11.7-slim-bookworm",
        ),
        ("EXPOSE 8000 9100", "EXPOSE 9100", "port 8000 not EXPOSEd"),
        (
            'ENTRYPOINT ["roost"]',
            'ENTRYPOINT ["python", "-m", "gateway"]',
            "ENTRYPOINT is not the roost console script in exec form (got ['python', '-m', 'gateway'])",
        ),
        ("COPY jobs ./jobs\n", "", "package jobs (pyproject.toml) is not copied into the build stage"),
        ("HEALTHCHECK", "# HEALTHCHECK", "no HEALTHCHECK on /healthz"),
    ],
)
def test_a_broken_dockerfile_is_caught(old: str, new: str, problem: str) -> None:
    assert old in DOCKERFILE
    assert problem in dockerfile_rules.problems(DOCKERFILE.replace(old, new, 1))


def test_build_tools_in_the_final_stage_are_caught() -> None:
    broken = DOCKERFILE.replace(
        "COPY --from=build /install /usr/local\n",
        "COPY --from=build /install /usr/local\n"
        "RUN apt-get update && apt-get install -y gcc \\\n    && pip install ray\n",
    )
    found = dockerfile_rules.problems(broken)
    assert "final stage installs build tools: ['gcc']" in found
    assert "final stage runs pip install (build in the build stage, copy the result)" in found


def test_a_single_stage_image_is_caught() -> None:
    _, stages = dockerfile_rules.parse(DOCKERFILE)
    single = DOCKERFILE[DOCKERFILE.index("FROM python:3.11.7-slim-bookworm AS runtime") :]
    assert dockerfile_rules.problems(single) == ["1 stage(s): the image must be multi-stage"]
    assert len(stages) == 2
