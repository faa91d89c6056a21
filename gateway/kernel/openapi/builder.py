"""Build one contract's OpenAPI 3.1 document from its route table and its handlers' declarations.

The route table is registered on a scratch router and walked, so the document lists exactly the
routes that are served (a route with no declaration still appears, marked `x-undocumented`, and
tests/openapi fails on it). Models become `components.schemas` through pydantic's JSON Schema
(2020-12, which OpenAPI 3.1 uses as is).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter

from gateway.kernel.openapi.operation import NO_BODY, Body, Operation, doc_of

REF = "#/components/schemas/{model}"
JSON = "application/json"
# aiohttp's pattern for a plain `{name}` segment: no constraint worth writing down
_DEFAULT_SEGMENT = "[^{}/]+"

Schema = dict[str, Any]


@dataclass(frozen=True)
class ContractSpec:
    """What one contract document says about itself; the contract package declares it."""

    key: str  # stable name: the document's file name and its entry in the docs selector
    title: str
    version: str
    description: str
    server: str  # the mount the paths are relative to ("/api", "/api/v1", "" for the root)
    # data schema -> the success envelope around it (the identity for a contract with none)
    envelope: Callable[[Schema], Schema]
    error_model: type[BaseModel]  # every error answer's body
    security_schemes: Mapping[str, Schema] = field(default_factory=dict)
    # statuses any operation may answer (429 where every route is throttled)
    common_errors: tuple[int, ...] = ()
    # headers on every answer (rate-limit counters), name -> header object
    common_headers: Mapping[str, Schema] = field(default_factory=dict)
    # headers on the 429 answer
    throttle_headers: Mapping[str, Schema] = field(default_factory=dict)
    tags: tuple[Mapping[str, str], ...] = ()


class _Components:
    """Collects JSON Schemas under one namespace of component names."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}

    def _merge(self, defs: Mapping[str, Schema]) -> None:
        for name, schema in defs.items():
            known = self.schemas.get(name)
            if known is not None and known != schema:
                raise ValueError(f"two different schemas are both named {name!r} in one document")
            self.schemas[name] = schema

    def schema_for(self, tp: Any, mode: str = "serialization") -> Schema:
        """A schema for `tp`: a $ref for a model (its schema in components), inline otherwise."""
        raw = TypeAdapter(tp).json_schema(mode=mode, ref_template=REF)  # type: ignore[arg-type]
        self._merge(raw.pop("$defs", {}))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name = tp.__name__
            if mode == "validation" and name in self.schemas and self.schemas[name] != raw:
                name += "Input"  # a model whose request and response forms differ
            self._merge({name: raw})
            return {"$ref": REF.format(model=name)}
        return raw


def _path_params(resource: web.AbstractResource) -> dict[str, str | None]:
    """Each path parameter with its regex (None for a plain segment), in path order."""
    info = resource.get_info()
    pattern = info.get("pattern")
    if pattern is None:
        return {}
    source, out, i = pattern.pattern, {}, 0
    while (start := source.find("(?P<", i)) != -1:
        name_end = source.index(">", start)
        name = source[start + 4 : name_end]
        depth, j = 1, name_end + 1
        while depth:
            ch = source[j]
            if ch == "\\":
                j += 2
                continue
            depth += {"(": 1, ")": -1}.get(ch, 0)
            j += 1
        body = source[name_end + 1 : j - 1]
        out[name] = None if body == _DEFAULT_SEGMENT else body
        i = j
    return out


def _operation_id(method: str, path: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
    return f"{method.lower()}_{slug or 'root'}"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"


class _Builder:
    def __init__(self, spec: ContractSpec) -> None:
        self.spec = spec
        self.components = _Components()
        self.error_ref = self.components.schema_for(spec.error_model)
        self.headers: dict[str, Schema] = {}

    def _header_refs(self, headers: Mapping[str, Schema]) -> dict[str, Schema]:
        self.headers.update(headers)
        return {name: {"$ref": f"#/components/headers/{name}"} for name in headers}

    def _content(self, data: Any, enveloped: bool) -> dict[str, Any] | None:
        if data is NO_BODY:
            return None
        if isinstance(data, tuple):  # one status, several media types: (Model, Body("text/event-stream"))
            merged: dict[str, Any] = {}
            for alternative in data:
                merged.update(self._content(alternative, enveloped) or {})
            return merged or None
        if isinstance(data, Body):
            return {data.content_type: {"schema": dict(data.schema)}}
        inner: Schema = {"type": "null"} if data is None else self.components.schema_for(data)
        schema = self.spec.envelope(inner) if enveloped else inner
        return {JSON: {"schema": schema}}

    def _success(self, op: Operation, status: int, data: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"description": _reason(status)}
        content = self._content(data, op.enveloped)
        if content is not None:
            out["content"] = content
        headers = {
            **self._header_refs(self.spec.common_headers),
            **{k: {"description": v, "schema": {"type": "string"}} for k, v in op.headers_out.items()},
        }
        if headers:
            out["headers"] = headers
        return out

    def _error(self, status: int) -> dict[str, Any]:
        if status == 304:
            return {"description": "Not Modified: the answer for this If-None-Match has not changed"}
        out: dict[str, Any] = {"description": _reason(status), "content": {JSON: {"schema": self.error_ref}}}
        headers = self._header_refs(self.spec.common_headers)
        if status == 429:
            headers.update(self._header_refs(self.spec.throttle_headers))
        if headers:
            out["headers"] = headers
        return out

    def _error_statuses(self, op: Operation) -> set[int]:
        statuses = set(op.errors) | set(self.spec.common_errors)
        if op.auth and not op.auth_optional:
            statuses.add(401)
        if op.body is not None or op.form is not None or op.query is not None:
            statuses.add(422)
        if op.body is not None:
            statuses |= {400, 413, 415}
        if op.form is not None or op.upload is not None:
            statuses |= {400, 413, 415}
        return statuses

    def _parameters(self, op: Operation, params: dict[str, str | None]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, regex in params.items():
            schema: Schema = {"type": "string"}
            if regex is not None:
                schema["pattern"] = f"^(?:{regex})$"
            param = {"name": name, "in": "path", "required": True, "schema": schema}
            if name in op.path_params:
                param["description"] = op.path_params[name]
            out.append(param)
        if op.query is not None:
            raw = TypeAdapter(op.query).json_schema(mode="validation", ref_template=REF)
            self.components._merge(raw.pop("$defs", {}))
            required = set(raw.get("required", ()))
            for name, schema in raw.get("properties", {}).items():
                param = {"name": name, "in": "query", "required": name in required, "schema": schema}
                if "description" in schema:
                    param["description"] = schema["description"]
                out.append(param)
        for name, description in op.headers_in.items():
            out.append(
                {
                    "name": name,
                    "in": "header",
                    "required": False,
                    "description": description,
                    "schema": {"type": "string"},
                }
            )
        return out

    def operation(self, method: str, path: str, handler: Any, params: dict[str, str | None]) -> dict[str, Any]:
        op = doc_of(handler)
        if op is None:
            bare: dict[str, Any] = {
                "operationId": _operation_id(method, path),
                "summary": "Undocumented",
                "x-undocumented": True,
                "responses": {"default": {"description": "Not yet described"}},
            }
            if params:
                bare["parameters"] = self._parameters(Operation(summary=""), params)
            return bare
        out: dict[str, Any] = {"operationId": _operation_id(method, path), "summary": op.summary}
        description = op.description or (handler.__doc__ or "").strip() or None
        if description:
            out["description"] = description
        if op.tags:
            out["tags"] = list(op.tags)
        if op.deprecated:
            out["deprecated"] = True
        parameters = self._parameters(op, params)
        if parameters:
            out["parameters"] = parameters
        if op.body is not None:
            out["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": self.components.schema_for(op.body, "validation")}},
            }
        elif op.form is not None:
            schema = self.components.schema_for(op.form, "validation")
            out["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {"schema": schema},
                    "application/x-www-form-urlencoded": {"schema": schema},
                },
            }
        elif op.upload is not None:
            out["requestBody"] = {
                "required": True,
                "content": {op.upload.content_type: {"schema": dict(op.upload.schema)}},
            }
        responses: dict[str, Any] = {str(op.status): self._success(op, op.status, op.response)}
        for status, data in op.also.items():
            responses[str(status)] = (
                self._error(status) if status == 304 and data is NO_BODY else self._success(op, status, data)
            )
        statuses = self._error_statuses(op)
        if params:
            # a segment outside its parameter's pattern matches no route, and the mount answers
            # 404: a constrained one ({provider}: google|github), and any plain one too, since
            # aiohttp's default segment pattern refuses `{` and `}`
            statuses.add(404)
        for status in sorted(statuses):
            responses.setdefault(str(status), self._error(status))
        out["responses"] = dict(sorted(responses.items()))
        if op.auth:
            # "session+xsrf": both at once (one requirement object); separate names: any one
            security: list[dict[str, list[str]]] = [{part: [] for part in name.split("+")} for name in op.auth]
            if op.auth_optional:
                security.append({})
            out["security"] = security
        else:
            out["security"] = []
        return out


def build_document(spec: ContractSpec, setup_routes: Callable[[web.UrlDispatcher], None]) -> dict[str, Any]:
    """The contract's OpenAPI 3.1 document, from the route table it serves."""
    router = web.UrlDispatcher()
    setup_routes(router)
    builder = _Builder(spec)
    paths: dict[str, dict[str, Any]] = {}
    for route in router.routes():
        if route.method == "HEAD":  # add_get's implicit HEAD: the same operation, no body
            continue
        resource = route.resource
        if resource is None:
            continue
        path = resource.canonical
        paths.setdefault(path, {})[route.method.lower()] = builder.operation(
            route.method, path, route.handler, _path_params(resource)
        )
    components: dict[str, Any] = {"schemas": dict(sorted(builder.components.schemas.items()))}
    if builder.headers:
        components["headers"] = builder.headers
    if spec.security_schemes:
        components["securitySchemes"] = dict(spec.security_schemes)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": spec.title, "version": spec.version, "description": spec.description},
        "servers": [{"url": spec.server or "/"}],
        "paths": paths,
        "components": components,
    }
    if spec.tags:
        doc["tags"] = [dict(t) for t in spec.tags]
    return doc


def undocumented(doc: Mapping[str, Any]) -> list[str]:
    """`METHOD path` of every operation without a declaration."""
    return [
        f"{method.upper()} {path}"
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if op.get("x-undocumented")
    ]
