"""The interactive docs: Swagger UI at /docs and Scalar at /scalar, each with a selector over every
contract document (002's first: the root belongs to it, and its document promises both pages), and
again under PETCARE_PREFIX when 002 is mounted there.

Everything is served from packaged assets, never a CDN, so the pages work on a machine with no
internet: Swagger UI's dist from the `swagger-ui-py` pip package, Scalar's standalone bundle
vendored in assets/scalar (its README names the version and the source). Asset URLs carry their
version (or, for our own files, a hash of their content), so they are cached for a year.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import importlib.metadata
import importlib.util
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from aiohttp import web

from gateway.kernel.openapi.serve import Published

ASSETS = Path(__file__).with_name("assets")
SCALAR_VERSION = "1.76.0"  # assets/scalar/README.md
# the pip package whose static/ folder is Swagger UI's dist (swagger-ui 5.x: 4.x cannot read OpenAPI 3.1)
SWAGGER_PACKAGE = "swagger-ui-py"
# 002's document leads the selectors
FIRST = "petcare"
TITLE = "Roost API documents"

# versioned URLs: a new release is a new URL, so a year is safe
IMMUTABLE = "public, max-age=31536000, immutable"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# gzip only pays on text
_COMPRESSIBLE = {".js", ".css"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _swagger_static() -> Path:
    # located, not imported: the package's __init__ pulls in its framework adapters, which we never use
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {SWAGGER_PACKAGE} package (Swagger UI's assets) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@dataclass(frozen=True)
class Asset:
    url: str  # path below the docs' asset root: "<bundle>/<file>"
    file: Path

    @property
    def content_type(self) -> str:
        return _TYPES[self.file.suffix]


@cache
def _read(file: Path) -> tuple[bytes, bytes | None]:
    """The file and its gzip form (text only), read on first use and kept: the bundles are a few MB."""
    raw = file.read_bytes()
    return raw, gzip.compress(raw, 6) if file.suffix in _COMPRESSIBLE else None


def _own(name: str) -> Asset:
    digest = hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()[:12]
    return Asset(f"roost-{digest}/{name}", ASSETS / name)


@cache
def _assets() -> dict[str, Asset]:
    swagger = _swagger_static()
    swagger_bundle = f"swagger-ui-py-{importlib.metadata.version(SWAGGER_PACKAGE)}"
    scalar_bundle = f"scalar-{SCALAR_VERSION}"
    return {
        "swagger.css": Asset(f"{swagger_bundle}/swagger-ui.css", swagger / "swagger-ui.css"),
        "swagger.js": Asset(f"{swagger_bundle}/swagger-ui-bundle.js", swagger / "swagger-ui-bundle.js"),
        "swagger-preset.js": Asset(
            f"{swagger_bundle}/swagger-ui-standalone-preset.js", swagger / "swagger-ui-standalone-preset.js"
        ),
        "swagger-icon.png": Asset(f"{swagger_bundle}/favicon-32x32.png", swagger / "favicon-32x32.png"),
        "scalar.js": Asset(f"{scalar_bundle}/standalone.js", ASSETS / "scalar" / "standalone.js"),
        "swagger-init.js": _own("swagger-init.js"),
        "scalar-init.js": _own("scalar-init.js"),
    }


def _asset_handler(asset: Asset) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        raw, packed = _read(asset.file)
        headers = {"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
        if packed is not None:
            headers["Vary"] = "Accept-Encoding"
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                headers["Content-Encoding"] = "gzip"
                raw = packed
        return web.Response(body=raw, content_type=asset.content_type, headers=headers)

    return handler


# Only our own scripts run, and documents and "try it" requests go to this origin alone, so the
# browser itself refuses any CDN or service. Styles may be inline: both UIs set style attributes
# and add <style> elements as they render (Scalar's own nonce support covers only its first one).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _config_json(documents: Mapping[str, Published]) -> str:
    ordered = sorted(documents.values(), key=lambda d: d.key != FIRST)
    config = {"documents": [{"key": d.key, "title": d.title, "url": d.path} for d in ordered]}
    # inside <script type="application/json"> nothing is decoded: keep `</script>` and friends out
    text = json.dumps(config, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True)
class _Page:
    title: str
    mount: str  # the element the UI renders into
    styles: tuple[str, ...]  # asset keys
    scripts: tuple[str, ...]
    icon: str | None


_PAGES = {
    "docs": _Page(
        "Swagger UI",
        "swagger-ui",
        styles=("swagger.css",),
        scripts=("swagger.js", "swagger-preset.js", "swagger-init.js"),
        icon="swagger-icon.png",
    ),
    "scalar": _Page("Scalar", "app", styles=(), scripts=("scalar.js", "scalar-init.js"), icon=None),
}


def _page_handler(page: _Page, asset_root: str, documents: Mapping[str, Published]) -> Handler:
    assets = _assets()

    def url(key: str) -> str:
        return html.escape(f"{asset_root}/{assets[key].url}")

    head = [f'<link rel="stylesheet" href="{url(key)}">' for key in page.styles]
    if page.icon:
        head.append(f'<link rel="icon" type="image/png" href="{url(page.icon)}">')
    text = Template((ASSETS / "page.html").read_text()).substitute(
        title=html.escape(f"{page.title} · {TITLE}"),
        head="\n".join(head),
        mount=page.mount,
        config=_config_json(documents),
        scripts="\n".join(f'<script src="{url(key)}"></script>' for key in page.scripts),
    )

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            text=text,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                # small, and it names the versioned assets: always asked again, cheaply
                "Cache-Control": "no-cache",
            },
        )

    return handler


def add_ui_routes(router: web.UrlDispatcher, documents: Mapping[str, Published], prefix: str = "") -> None:
    """/docs and /scalar with their assets under /docs/assets, at the root and again under `prefix`."""
    for base in dict.fromkeys(("", prefix)):
        asset_root = f"{base}/docs/assets"
        for asset in _assets().values():
            router.add_get(f"{asset_root}/{asset.url}", _asset_handler(asset))
        for name, page in _PAGES.items():
            router.add_get(f"{base}/{name}", _page_handler(page, asset_root, documents))
