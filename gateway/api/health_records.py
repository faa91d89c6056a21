"""000's health records at /api: weights, medical records, vaccinations, microchips.

Each kind lives in its own module (gateway/api/health_*.py); they share the access rules and the
pet-type gate in health_common.py and the paginator in pagination.py.
"""

from __future__ import annotations

from aiohttp import web

from gateway.api import health_medical, health_microchips, health_vaccinations, health_weights


def setup_routes(app: web.Application) -> None:
    health_weights.setup_routes(app)
    health_medical.setup_routes(app)
    health_vaccinations.setup_routes(app)
    health_microchips.setup_routes(app)
