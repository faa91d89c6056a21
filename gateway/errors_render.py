"""Render a domain error in the envelope of the contract the request belongs to."""

from __future__ import annotations

from aiohttp import web

from domain.errors import RoostError
from gateway.api import envelope as api_envelope
from gateway.contracts import Contract, contract_of
from gateway.events import envelope as events_envelope
from gateway.petcare import envelope as petcare_envelope

_RENDERERS = {
    Contract.API: api_envelope.error,
    Contract.EVENTS: events_envelope.error,
    Contract.PETCARE: petcare_envelope.error,
    # ops endpoints live at the root, where 002's envelope is what a client there expects
    Contract.OPS: petcare_envelope.error,
    Contract.WEB: api_envelope.error,
}


def render_error(request: web.Request, err: RoostError) -> web.Response:
    return _RENDERERS[contract_of(request)](err, request)
