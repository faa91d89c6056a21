"""Every response a test receives is checked against its contract's OpenAPI document (Zulip's
`validate_test_response`): tests/conftest.py wraps pytest-aiohttp's `aiohttp_client` so each
client of an app built by `create_app` checks each answer it gets.

For an answer to a documented operation: its status must be one the operation documents, and a
JSON body must validate against that status's schema. An answer to an operation that is not
documented yet is not checked (tests/openapi/test_documents.py fails while any remains), and
neither is an answer that followed a redirect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

import orjson
from aiohttp import ClientResponse
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.kernel.openapi.serve import Published


@dataclass(frozen=True)
class Match:
    key: str
    path: str  # the template, as in the document
    operation: Mapping[str, Any] | None  # None: the path is documented, the method is not


def _template_regex(server: str, template: str, operations: Mapping[str, Any]) -> re.Pattern[str]:
    patterns: dict[str, str] = {}
    for op in operations.values():
        for param in op.get("parameters", ()):
            if param.get("in") == "path":
                pattern = param.get("schema", {}).get("pattern")
                if pattern:
                    patterns[param["name"]] = pattern.removeprefix("^").removesuffix("$")
    out, last = [], 0
    for m in re.finditer(r"\{([^}]+)\}", template):
        out.append(re.escape(template[last : m.start()]))
        out.append(f"(?:{patterns.get(m.group(1), '[^/]+')})")
        last = m.end()
    out.append(re.escape(template[last:]))
    return re.compile(re.escape(server.rstrip("/")) + "".join(out) + r"\Z")


class ContractIndex:
    """The documents of one app, matched against request paths the way the router matches them."""

    def __init__(self, documents: Mapping[str, Published]) -> None:
        self._registry: Registry = Registry()
        entries: list[tuple[int, int, re.Pattern[str], str, str]] = []
        for key, published in documents.items():
            doc = published.document
            self._registry = self._registry.with_resource(
                f"urn:roost:{key}", Resource.from_contents(doc, default_specification=DRAFT202012)
            )
            server = doc["servers"][0]["url"]
            for template, ops in doc["paths"].items():
                regex = _template_regex(server if server != "/" else "", template, ops)
                # literal segments win over parameters, as in the router's registration order
                entries.append((template.count("{"), -len(template), regex, key, template))
        entries.sort(key=lambda e: (e[0], e[1]))
        self._entries = entries
        self._documents = documents

    def find(self, method: str, path: str) -> Match | None:
        for _, _, regex, key, template in self._entries:
            if regex.match(path):
                ops = self._documents[key].document["paths"][template]
                return Match(key, template, ops.get(method.lower()))
        return None

    def problems(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
        match = self.find(method, path)
        if match is None or match.operation is None or match.operation.get("x-undocumented"):
            return []
        where = f"{method} {path} ({match.key}: {match.path}) answered {status}"
        responses = match.operation["responses"]
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            return [f"{where}, which the document does not list (it lists {', '.join(responses)})"]
        content = response.get("content")
        if not content:
            if body:
                return [f"{where} with a body, where the document says there is none"]
            return []
        if not any(fnmatch(content_type, documented) for documented in content):
            return [f"{where} as {content_type!r}, where the document says {', '.join(content)}"]
        if content_type != "application/json":
            return []
        try:
            instance = orjson.loads(body)
        except orjson.JSONDecodeError:
            return [f"{where} with a body that is not JSON"]
        pointer = "/".join(
            part.replace("~", "~0").replace("/", "~1")
            for part in (
                "paths",
                match.path,
                method.lower(),
                "responses",
                str(status),
                "content",
                content_type,
                "schema",
            )
        )
        validator = Draft202012Validator(
            {"$ref": f"urn:roost:{match.key}#/{pointer}"},
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        return [
            f"{where}: {'/'.join(map(str, err.absolute_path)) or '(body)'}: {err.message}"
            for err in validator.iter_errors(instance)
        ]


async def check_response(
    index: ContractIndex, method: str, resp: ClientResponse, api_domain: str | None = None
) -> None:
    if resp.history or method == "HEAD":
        return
    content_type = resp.content_type
    if resp.status == 400 and content_type == "text/plain" and "X-Request-ID" not in resp.headers:
        return  # aiohttp's HTTP parser refused the request (a request line over 8190 bytes): no route saw it

    body = await resp.read() if content_type == "application/json" else b""
    path = resp.url.path
    host = resp.request_info.headers.get("Host", resp.url.host or "").split(":")[0].lower()
    if api_domain and host == api_domain.split(":")[0].lower():
        # 003's API_DOMAIN host serves the /api documents at its root (gateway/app.py)
        path = "/api" + path
    problems = index.problems(method, path, resp.status, content_type, body)
    if problems:
        raise AssertionError("the answer does not match its contract's OpenAPI document:\n" + "\n".join(problems))
