"""`GET /`: 002's API status, which its document promises "for monitoring".

The reference answers a bare welcome object (`{message, environment, version, debug}`); 002's
document says every success is `{status: 1, data, message}`. Clients of both exist, so the body
carries both, as 002's other answers do. Outside production a browser asking for a page gets the
development landing page instead (gateway/web/landing.py, reached through `landing_page_key`, since
this package cannot import the pages); in production `/` is this JSON for everyone.
"""

from __future__ import annotations

from typing import Final, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.kernel.json_io import json_response
from gateway.kernel.keys import landing_page_key, settings_key
from gateway.kernel.negotiation import prefers_html
from gateway.kernel.openapi.operation import documented
from gateway.petcare.openapi import SPEC

WELCOME: Final = "Welcome to PetCare API!"  # the reference's words; its clients may compare them
TAG_STATUS = "Status"

Environment = Literal["development", "testing", "production"]


class StatusData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: Environment = Field(description="APP_ENV of the serving gateway.")
    version: str = Field(description="The version of 002's document this server implements.")
    debug: bool = Field(description="True outside production.")


class ApiStatus(BaseModel):
    """The document's envelope and the reference's top-level fields in one body."""

    model_config = ConfigDict(extra="forbid")

    status: Literal[1]
    data: StatusData
    message: str = Field(description=f"`{WELCOME}`")
    environment: Environment = Field(description="As `data.environment` (the reference's place).")
    version: str = Field(description="As `data.version`.")
    debug: bool = Field(description="As `data.debug`.")


@documented(
    "API status",
    tags=(TAG_STATUS,),
    description="For monitoring: 200 while the gateway serves requests (it does not look at the "
    "database; `/readyz` does). The body is 002's envelope with the reference's fields also at the top "
    "level. Outside production, a request whose `Accept` ranks `text/html` above JSON (a browser) "
    "gets the development landing page (HTML) instead; in production every caller gets this JSON.",
    response=ApiStatus,
    enveloped=False,
    headers_in={"Accept": "`text/html` ranked above JSON: the development landing page instead (not in production)."},
    headers_out={"Vary": "`Accept`: the answer depends on it outside production."},
)
async def api_status(request: web.Request) -> web.StreamResponse:
    settings = request.config_dict[settings_key]
    development = settings.app_env != "production"
    landing = request.config_dict.get(landing_page_key)
    if development and landing is not None and prefers_html(request.headers.get("Accept", "")):
        page = await landing(request)
        page.headers["Vary"] = "Accept"
        return page
    data = StatusData(environment=settings.app_env, version=SPEC.version, debug=development)
    answer = ApiStatus(status=1, data=data, message=WELCOME, **data.model_dump())
    return json_response(answer.model_dump(mode="json"), headers={"Vary": "Accept"})
