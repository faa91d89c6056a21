"""POST /api/maps/pin through the whole app: the reference's defaults, validation and URL formats,
an iframe no address can break out of, and 500 without GOOGLE_MAPS_API_KEY."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from gateway.app import create_app
from tests.accounts.account_helpers import JSON, assert_err, assert_ok
from tests.builders import bearer, make_token, make_user

KEY = "AIza-test-key"
API_HOST = "api.roost.test"


@pytest.fixture
async def maps_client(aiohttp_client, settings, ray_session):
    s = settings.model_copy(update={"google_maps_api_key": KEY, "api_domain": API_HOST, "api_prefix_fallback": True})
    return await aiohttp_client(create_app(s))


@pytest.fixture
async def keyless_client(aiohttp_client, settings, ray_session):
    return await aiohttp_client(create_app(settings.model_copy(update={"google_maps_api_key": None})))


async def pin(client, body: Any, **headers: str):
    return await client.post("/api/maps/pin", json=body, headers=JSON | headers)


async def test_defaults_and_url_formats(maps_client):
    resp = await pin(maps_client, {"address": "1600 Amphitheatre Parkway, Mountain View, CA"})
    assert resp.status == 200
    data = assert_ok(await resp.json(), 200, "Google Maps URLs generated")
    q = "1600+Amphitheatre+Parkway%2C+Mountain+View%2C+CA"
    assert data == {
        "embed_url": f"https://www.google.com/maps/embed/v1/place?key={KEY}&q={q}&zoom=15&maptype=roadmap",
        "maps_link": f"https://www.google.com/maps/search/?api=1&query={q}",
        "iframe": (
            '<iframe width="600" height="450" style="border:0" loading="lazy" allowfullscreen '
            'referrerpolicy="no-referrer-when-downgrade" '
            f'src="https://www.google.com/maps/embed/v1/place?key={KEY}&amp;q={q}&amp;zoom=15&amp;maptype=roadmap">'
            "</iframe>"
        ),
        "address": "1600 Amphitheatre Parkway, Mountain View, CA",
    }


async def test_given_zoom_size_and_map_type(maps_client):
    body = {"address": "  Main St 1  ", "zoom": 3, "width": 2048, "height": 1, "map_type": "satellite"}
    data = (await (await pin(maps_client, body)).json())["data"]
    assert data["embed_url"].endswith("&q=Main+St+1&zoom=3&maptype=satellite")
    assert data["iframe"].startswith('<iframe width="2048" height="1" ')
    assert data["address"] == "Main St 1"
    # the edges of each range
    for body in ({"address": "x", "zoom": 0}, {"address": "x", "zoom": 21}, {"address": "x" * 500, "width": 1}):
        assert (await pin(maps_client, body)).status == 200, body


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.ends: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        self.ends.append(tag)

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize(
    "address",
    [
        'Baker "Street" 221b',
        "O'Hara's <script>alert(1)</script>",
        '"><script>alert(document.cookie)</script><iframe src="',
        "' onload='alert(1)",
        "a & b &amp; c &#34; %22 + plus",
        "Straße 5, 東京都 🏠",
    ],
)
async def test_no_address_breaks_out_of_the_iframe(maps_client, address):
    resp = await pin(maps_client, {"address": address})
    assert resp.status == 200
    data = (await resp.json())["data"]
    assert data["address"] == address
    parsed = _Tags()
    parsed.feed(data["iframe"])
    parsed.close()
    # exactly one element, the iframe, with its own attributes only, and its src the embed URL
    assert [tag for tag, _ in parsed.starts] == ["iframe"]
    assert parsed.ends == ["iframe"]
    assert parsed.text == []
    attrs = parsed.starts[0][1]
    assert set(attrs) == {"width", "height", "style", "loading", "allowfullscreen", "referrerpolicy", "src"}
    assert attrs["src"] == data["embed_url"]
    for url in (data["embed_url"], data["maps_link"]):
        assert not set(url) & set("\"'<> ")
    assert "<script" not in data["iframe"]


async def test_validation(maps_client):
    cases = [
        ({}, "address", "The address field is required."),
        ({"address": ""}, "address", "The address field is required."),
        ({"address": "   "}, "address", "The address field is required."),
        ({"address": 12}, "address", "The address must be a string."),
        ({"address": "x" * 501}, "address", "The address may not be greater than 500 characters."),
        ({"address": "x", "zoom": 22}, "zoom", "The zoom may not be greater than 21."),
        ({"address": "x", "zoom": -1}, "zoom", "The zoom must be at least 0."),
        ({"address": "x", "zoom": "near"}, "zoom", "The zoom must be an integer."),
        ({"address": "x", "zoom": 1.5}, "zoom", "The zoom must be an integer."),
        ({"address": "x", "zoom": False}, "zoom", "The zoom must be an integer."),
        ({"address": "x", "width": True}, "width", "The width must be an integer."),
        ({"address": "x", "width": 0}, "width", "The width must be at least 1."),
        ({"address": "x", "height": 2049}, "height", "The height may not be greater than 2048."),
        ({"address": "x", "map_type": "terrain"}, "map_type", "The selected map type is invalid."),
    ]
    for body, field, message in cases:
        resp = await pin(maps_client, body)
        assert resp.status == 422, body
        errors = assert_err(await resp.json(), 422, "The given data was invalid.")
        assert errors is not None and errors[field] == [message], (body, errors)
    resp = await pin(maps_client, {"address": "a\x00b"})
    assert resp.status == 422
    resp = await pin(maps_client, ["not", "an", "object"])
    assert resp.status == 422


async def test_public_and_the_same_for_a_signed_in_caller(maps_client):
    user = await make_user(maps_client.app)
    headers = bearer(await make_token(maps_client.app, user["id"]))
    anonymous = (await (await pin(maps_client, {"address": "Here"})).json())["data"]
    signed_in = (await (await pin(maps_client, {"address": "Here"}, **headers)).json())["data"]
    assert anonymous == signed_in


async def test_a_form_body_works_too(maps_client):
    resp = await maps_client.post("/api/maps/pin", data={"address": "Rue de Rivoli", "zoom": "9"}, headers=JSON)
    assert resp.status == 200
    assert "&q=Rue+de+Rivoli&zoom=9&" in (await resp.json())["data"]["embed_url"]


async def test_without_an_api_key_it_is_a_500(keyless_client, caplog):
    resp = await pin(keyless_client, {"address": "Somewhere"})
    assert resp.status == 500
    body = await resp.json()
    assert_err(body, 500, "Google Maps API key is not configured")
    assert "GOOGLE_MAPS_API_KEY" in caplog.text
    # validation still comes first
    resp = await pin(keyless_client, {})
    assert resp.status == 422


async def test_on_the_api_domain_host(maps_client):
    resp = await maps_client.post("/maps/pin", json={"address": "Elm St"}, headers=JSON | {"Host": API_HOST})
    assert resp.status == 200
    assert (await resp.json())["data"]["maps_link"].endswith("query=Elm+St")
    # API_PREFIX_FALLBACK: /api/... on that host as well
    resp = await maps_client.post("/api/maps/pin", json={"address": "Elm St"}, headers=JSON | {"Host": API_HOST})
    assert resp.status == 200
