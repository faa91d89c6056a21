"""The four contract documents: valid OpenAPI 3.1, every served operation described, each served
at its stable path."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from gateway.app import build_documents
from gateway.kernel.openapi.builder import undocumented

KEYS = ("pethealth", "accounts", "events", "petcare")


@pytest.fixture(scope="module")
def documents(settings):
    return build_documents(settings)


def test_every_contract_has_a_document(documents):
    assert set(documents) == set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_document_is_valid_openapi_3_1(documents, key):
    doc = documents[key].document
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises on any violation


@pytest.mark.parametrize("key", KEYS)
def test_every_operation_is_described(documents, key):
    assert undocumented(documents[key].document) == []


@pytest.mark.parametrize("key", KEYS)
async def test_document_is_served(client, documents, key):
    published = documents[key]
    resp = await client.get(published.path)
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert await resp.json() == published.document
