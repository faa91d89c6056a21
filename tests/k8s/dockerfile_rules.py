"""The Dockerfile, checked statically (no container engine runs on the project's machines, and
hadolint is not on PyPI): a small parser of the instructions and the rules issue 15 sets for the
image. `problems(text)` returns what is wrong, empty when nothing is."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field

from tests.k8s.manifests import ROOT

# Packages that compile or fetch code: they belong in the build stage only
BUILD_TOOLS = frozenset(
    {
        "build-essential",
        "gcc",
        "g++",
        "make",
        "cmake",
        "clang",
        "cargo",
        "rustc",
        "git",
        "curl",
        "wget",
        "libc6-dev",
        "python3-dev",
        "pkg-config",
        "autoconf",
        "automake",
    }
)
SLIM_TAG = re.compile(r"^[a-z0-9./-]+:\d+\.\d+\.\d+-slim(-[a-z]+)?$")


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """(the ARG defaults before the first FROM, the stages with their instructions); FROM's
    `${ARG}` is resolved from those defaults, as docker does."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending)
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=base, name=name))
        elif not stages:
            if keyword == "ARG" and "=" in args:
                key, _, value = args.partition("=")
                global_args[key] = value
        else:
            stages[-1].instructions.append(Instruction(keyword, args))
    return global_args, stages


def arg_default(stages: list[Stage], name: str) -> str | None:
    for stage in stages:
        for i in stage.all("ARG"):
            key, _, value = i.args.partition("=")
            if key == name:
                return value
    return None


def _exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def problems(text: str) -> list[str]:
    out: list[str] = []
    _, stages = parse(text)
    if len(stages) < 2:
        return [f"{len(stages)} stage(s): the image must be multi-stage"]
    final = stages[-1]
    for stage in stages:
        if not SLIM_TAG.match(stage.base) or stage.base.endswith(":latest"):
            out.append(f"FROM {stage.base}: not a slim base pinned to a full version tag")
    if final.base != stages[0].base:
        out.append(f"the final stage's base {final.base} is not the build stage's {stages[0].base}")
    # nothing compiled or installed in the final stage: it copies the build stage's tree
    for run in final.all("RUN"):
        words = set(re.split(r"[\s;&|]+", run.args))
        if words & BUILD_TOOLS:
            out.append(f"final stage installs build tools: {sorted(words & BUILD_TOOLS)}")
        if re.search(r"\bpip\d*\b.*\binstall\b", run.args):
            out.append("final stage runs pip install (build in the build stage, copy the result)")
    if not any("--from=" in c.args for c in final.all("COPY")):
        out.append("the final stage copies nothing from the build stage")
    users = final.all("USER")
    if not users:
        out.append("no USER in the final stage: the image runs as root")
    else:
        user = users[-1].args.split(":")[0]
        if user in ("0", "root") or not user.isdigit():
            out.append(f"USER {users[-1].args}: must be a numeric non-root uid (runAsNonRoot checks the number)")
        elif int(user) != 10001:
            out.append(f"USER {user} is not the manifests' runAsUser 10001")
    exposed = {p.split("/")[0] for e in final.all("EXPOSE") for p in e.args.split()}
    for port in ("8000", "9100"):
        if port not in exposed:
            out.append(f"port {port} not EXPOSEd")
    checks = final.all("HEALTHCHECK")
    if not checks or "/healthz" not in checks[-1].args:
        out.append("no HEALTHCHECK on /healthz")
    entry = [_exec_form(e.args) for e in final.all("ENTRYPOINT")]
    cmd = [_exec_form(c.args) for c in final.all("CMD")]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    if not entry or entry[-1] != ["roost"] or "roost" not in scripts:
        out.append(f"ENTRYPOINT is not the roost console script in exec form (got {entry[-1] if entry else None})")
    if not cmd or not cmd[-1] or cmd[-1][0] != "serve" or "--host" not in cmd[-1] or "0.0.0.0" not in cmd[-1]:
        out.append(f"CMD is not `serve` on every address (got {cmd[-1] if cmd else None})")
    # every package pyproject installs is copied into the build
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {shlex.split(c.args)[0].strip("./") for s in stages[:-1] for c in s.all("COPY") if "--from" not in c.args}
    for pattern in packages:
        if pattern.rstrip("*") not in copied:
            out.append(f"package {pattern.rstrip('*')} (pyproject.toml) is not copied into the build stage")
    return out
