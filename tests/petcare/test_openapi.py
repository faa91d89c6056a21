"""002's OpenAPI document: its error-code enum covers what its routes raise, its security schemes
follow PETCARE_PREFIX, and the answers no operation documents (an unknown URL, a wrong method)
still fit its error model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain import errors as domain_errors
from gateway.app import build_documents, create_app
from gateway.petcare.openapi import PetcareError, PetcareErrorCode

ROOT = Path(__file__).resolve().parents[2]
# the modules whose errors 002's URLs answer (its handlers, the request boundary, the auth
# middleware, the database safety net, the user rows, Google sign-in, pets and groups)
SOURCES = (
    *sorted((ROOT / "gateway/petcare").glob("*.py")),
    ROOT / "gateway/kernel/validation.py",
    ROOT / "gateway/kernel/auth/middleware.py",
    ROOT / "storage/errors.py",
    ROOT / "storage/users.py",
    ROOT / "domain/oauth/provider.py",
    ROOT / "domain/oauth/google.py",
    # pets and groups (the rules and their words)
    ROOT / "domain/care_pets.py",
    ROOT / "domain/groups.py",
)
# what SocialAccounts.sign_in raises (its link/unlink codes belong to 003's profile routes)
SIGN_IN_CODES = {"account_exists_unverified", "provider_account_mismatch", "account_inactive"}
_CODE = re.compile(r'code="([a-z_]+)"')


def _error_classes(cls: type[domain_errors.RoostError]) -> list[type[domain_errors.RoostError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _error_classes(child))]


def test_error_code_enum_covers_every_code_002_can_answer():
    raised = {code for path in SOURCES for code in _CODE.findall(path.read_text())}
    raised |= {cls.code for cls in _error_classes(domain_errors.RoostError) if cls.__module__ == "domain.errors"}
    raised |= SIGN_IN_CODES
    assert raised - {code.value for code in PetcareErrorCode} == set()


def test_the_token_url_and_server_follow_the_prefix(settings):
    doc = build_documents(settings.model_copy(update={"petcare_prefix": "/petcare"}))["petcare"].document
    assert doc["servers"] == [{"url": "/petcare"}]
    password = doc["components"]["securitySchemes"]["oauth2"]["flows"]["password"]
    assert password["tokenUrl"] == "/petcare/auth/access_token"


def test_at_the_root_the_token_url_is_the_documented_path(settings):
    doc = build_documents(settings)["petcare"].document
    assert doc["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["tokenUrl"] == "/auth/access_token"
    assert "/auth/access_token" in doc["paths"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/no/such/page", 404, "route_not_found"), ("GET", "/user/create", 405, "method_not_allowed")],
)
async def test_answers_outside_the_operations_fit_the_error_model(client, method, path, status, code):
    resp = await client.request(method, path)
    assert resp.status == status
    error = PetcareError.model_validate(await resp.json())
    assert error.details.error_type == code


async def test_a_prefixed_app_answers_within_its_document(aiohttp_client, settings, ray_session):
    # the client checks every answer against the prefixed document (tests/contract_validation.py)
    prefixed = await aiohttp_client(create_app(settings.model_copy(update={"petcare_prefix": "/petcare"})))
    resp = await prefixed.get("/petcare/user/me")
    assert resp.status == 401
    resp = await prefixed.post("/petcare/auth/access_token", data={"username": "nobody", "password": "x"})
    assert resp.status == 401
