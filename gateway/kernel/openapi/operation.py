"""What a handler declares about itself for its contract's OpenAPI document.

    @documented("Show a pet", response=PetPublic, errors=(403, 404), auth=("pat", "session"))
    async def show_pet(request): ...

`documented` sets one attribute on the function and returns it unchanged: no wrapper, no cost per
request. The builder (builder.py) reads it back with `doc_of`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])

_ATTR = "__roost_operation__"

NO_BODY = object()  # `response=NO_BODY`: the success answer has no body (204, 304, a redirect)


@dataclass(frozen=True)
class Body:
    """A non-JSON body: `content_type` with a `schema` (default: binary)."""

    content_type: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string", "format": "binary"})


def file_upload(name: str, description: str) -> Body:
    """A multipart/form-data body of one required file field (the image uploads)."""
    schema = {
        "type": "object",
        "required": [name],
        "properties": {name: {"type": "string", "format": "binary", "description": description}},
    }
    return Body("multipart/form-data", schema)


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str | None = None
    # the success answer's data: a pydantic model, any type a TypeAdapter takes (list[PetPublic]),
    # NO_BODY, a Body for non-JSON answers, None for a `data: null` envelope, or a tuple of these
    # when one status answers in more than one media type
    response: Any = None
    status: int = 200
    # extra success statuses with their own data (`{201: PetPublic}`, `{304: NO_BODY}`)
    also: Mapping[int, Any] = field(default_factory=dict)
    body: type[BaseModel] | None = None  # JSON request body
    form: type[BaseModel] | None = None  # multipart/form-data or urlencoded fields
    upload: Body | None = None  # a raw request body (PUT of an image)
    query: type[BaseModel] | None = None  # query parameters, one per field
    headers_in: Mapping[str, str] = field(default_factory=dict)  # request headers: name -> description
    headers_out: Mapping[str, str] = field(default_factory=dict)  # success response headers
    errors: tuple[int, ...] = ()  # error statuses beyond the ones the builder adds on its own
    auth: tuple[str, ...] = ()  # security scheme names, any one suffices; () = public
    auth_optional: bool = False  # credentials are read when given, never required
    path_params: Mapping[str, str] = field(default_factory=dict)  # name -> description
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    # success answers are the contract's envelope around `response` (False: the bare body)
    enveloped: bool = True


def documented(
    summary: str,
    *,
    description: str | None = None,
    response: Any = None,
    status: int = 200,
    also: Mapping[int, Any] | None = None,
    body: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    upload: Body | None = None,
    query: type[BaseModel] | None = None,
    headers_in: Mapping[str, str] | None = None,
    headers_out: Mapping[str, str] | None = None,
    errors: Iterable[int] = (),
    auth: Sequence[str] = (),
    auth_optional: bool = False,
    path_params: Mapping[str, str] | None = None,
    tags: Sequence[str] = (),
    deprecated: bool = False,
    enveloped: bool = True,
) -> Callable[[F], F]:
    op = Operation(
        summary=summary,
        description=description,
        response=response,
        status=status,
        also=dict(also or {}),
        body=body,
        form=form,
        upload=upload,
        query=query,
        headers_in=dict(headers_in or {}),
        headers_out=dict(headers_out or {}),
        errors=tuple(sorted(set(errors))),
        auth=tuple(auth),
        auth_optional=auth_optional,
        path_params=dict(path_params or {}),
        tags=tuple(tags),
        deprecated=deprecated,
        enveloped=enveloped,
    )

    def mark(handler: F) -> F:
        setattr(handler, _ATTR, op)
        return handler

    return mark


def attach(handler: Callable[..., Any], op: Operation) -> None:
    """For handlers made by a factory (one per record kind): attach a prepared Operation."""
    setattr(handler, _ATTR, op)


def doc_of(handler: Callable[..., Any]) -> Operation | None:
    """The handler's Operation. A bound method finds it on its function, or on its instance through
    `operation_for(name)` (one handler class serving several resources documents each one)."""
    op = getattr(handler, _ATTR, None)
    if op is not None:
        return op
    owner = getattr(handler, "__self__", None)
    lookup = getattr(owner, "operation_for", None)
    if callable(lookup):
        found = lookup(getattr(handler, "__name__", ""))
        return found if isinstance(found, Operation) else None
    return None
