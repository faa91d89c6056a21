"""003's POST /api/maps/pin (public): Google Maps URLs for an address (domain/maps.py).

No request leaves the server: the URLs are built here and the client's browser loads them.
"""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from domain import maps
from gateway.accounts.openapi import WRITE_ERRORS
from gateway.accounts.schemas import render
from gateway.kernel.api_envelope import success
from gateway.kernel.fields import FORM_CONFIG
from gateway.kernel.keys import settings_key
from gateway.kernel.openapi.operation import documented
from gateway.kernel.validation import parse


class MapPinIn(BaseModel):
    model_config = FORM_CONFIG

    address: str = Field(min_length=1, max_length=maps.ADDRESS_MAX, description="Any address Google Maps can find.")
    zoom: int = Field(default=maps.ZOOM_DEFAULT, ge=maps.ZOOM_MIN, le=maps.ZOOM_MAX)
    width: int = Field(default=maps.WIDTH_DEFAULT, ge=maps.SIZE_MIN, le=maps.SIZE_MAX, description="Of the iframe.")
    height: int = Field(default=maps.HEIGHT_DEFAULT, ge=maps.SIZE_MIN, le=maps.SIZE_MAX, description="Of the iframe.")
    map_type: maps.MapType = maps.MapType.ROADMAP

    @field_validator("zoom", "width", "height", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object, info: ValidationInfo) -> object:
        # pydantic takes true/false as 1/0; Laravel's integer rule (the reference's) does not
        if isinstance(value, bool):
            raise ValueError(f"The {info.field_name} must be an integer.")
        return value


class MapPin(BaseModel):
    embed_url: str = Field(description="Google Maps Embed API URL, for an iframe's `src`.")
    maps_link: str = Field(description="Opens the address in Google Maps (browser or app).")
    iframe: str = Field(description="A ready-made iframe around `embed_url` (attribute values HTML-escaped).")
    address: str = Field(description="The address as given (trimmed).")


@documented(
    "Google Maps URLs for an address",
    description="Public. 500 when the server has no GOOGLE_MAPS_API_KEY.",
    response=MapPin,
    body=MapPinIn,
    errors=(*WRITE_ERRORS, 500),
)
async def pin(request: web.Request) -> web.Response:
    """POST /api/maps/pin {address, zoom?, width?, height?, map_type?} → 200 "Google Maps URLs generated"."""
    data = await parse(request, MapPinIn)
    pin = maps.Pin(data.address, data.zoom, data.width, data.height, data.map_type)
    urls = maps.pin_urls(pin, request.config_dict[settings_key].google_maps_api_key)
    return success(render(MapPin(**asdict(urls))), "Google Maps URLs generated")
