"""002's hourly rate limits (gateway/petcare/limits.py) on an app built with low figures.

The document's table: general 1000/hour per user, photo uploads 50/hour, searches 200/hour; sign-in
10/minute and registration 5/hour per IP are the kernel's (tests/gateway/test_throttle.py,
tests/security). A 429 is in 002's shape: `details {retry_after, limit, window}`.
"""

from __future__ import annotations

import uuid

import pytest

from gateway.petcare.envelope import window_words
from tests.clock import FakeClock
from tests.petcare.care_builders import call, caller, ok

GENERAL, PHOTOS, SEARCHES = 6, 1, 2


@pytest.fixture
async def tight(aiohttp_client, settings, ray_session):
    from gateway.app import create_app

    low = settings.model_copy(
        update={
            "throttle_petcare_per_hour": GENERAL,
            "throttle_petcare_photos_per_hour": PHOTOS,
            "throttle_petcare_search_per_hour": SEARCHES,
            # throttle counters are per prefix: this test's must not meet other tests'
            "redis_prefix": f"pcl-{uuid.uuid4().hex[:10]}",
        }
    )
    # on a fake clock at the start of an hour: a test's hits never straddle a window
    return await aiohttp_client(create_app(low, clock=FakeClock()))


def assert_limited(resp, body: dict, limit: int) -> None:
    assert resp.status == 429
    assert body["status"] == 0 and body["data"] is None
    assert body["message"] == "Rate limit exceeded" and body["detail"] == "Rate limit exceeded"
    details = body["details"]
    assert details["error_type"] == "rate_limited"
    assert details["limit"] == limit and details["window"] == "1 hour" and details["window_s"] == 3600
    assert details["retry_after"] == int(resp.headers["Retry-After"]) == 3600
    assert resp.headers["X-RateLimit-Limit"] == str(limit)
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert int(resp.headers["X-RateLimit-Reset"]) > 0


async def test_general_limit_is_per_user_with_headers_on_every_answer(tight):
    carer, other = await caller(tight), await caller(tight)
    for remaining in range(GENERAL - 1, -1, -1):
        resp = await tight.get("/pets/accessible", headers=carer.headers)
        assert resp.status == 200
        assert resp.headers["X-RateLimit-Limit"] == str(GENERAL)
        assert resp.headers["X-RateLimit-Remaining"] == str(remaining)
    # any route counts, an error answer too; OPTIONS never does
    resp = await tight.get("/groups/my_groups", headers=carer.headers)
    assert_limited(resp, await resp.json(), GENERAL)
    assert (await tight.options("/pets/accessible", headers=carer.headers)).status != 429
    # another user has their own budget
    assert (await tight.get("/pets/accessible", headers=other.headers)).status == 200


async def test_anonymous_requests_cost_no_user_budget_and_other_contracts_are_untouched(tight):
    carer = await caller(tight)
    for _ in range(GENERAL + 2):
        resp = await tight.get("/pets/accessible")
        assert resp.status == 401
        assert "X-RateLimit-Limit" not in resp.headers
    # the same user's 000 and 003 calls are not 002's: /api keeps its own minute limits
    for _ in range(GENERAL + 1):
        resp = await tight.get("/api/users/me", headers=carer.api)
        assert resp.status == 200
        assert resp.headers.get("X-RateLimit-Limit") != str(GENERAL)
    assert (await tight.get("/pets/accessible", headers=carer.headers)).status == 200


async def test_searches_have_their_own_tighter_limit(tight):
    carer = await caller(tight)
    search = {"keyword": "kibble", "group_id": (await ok(tight, "GET", "/user/me", carer))["personal_group_id"]}
    for remaining in range(SEARCHES - 1, -1, -1):
        resp = await tight.get("/foods/info", params=search, headers=carer.headers)
        assert resp.status == 200, await resp.text()
        # the tighter of the two limits a search used
        assert resp.headers["X-RateLimit-Limit"] == str(SEARCHES)
        assert resp.headers["X-RateLimit-Remaining"] == str(remaining)
    resp = await tight.get("/foods/info", params=search, headers=carer.headers)
    assert_limited(resp, await resp.json(), SEARCHES)
    # listing is not searching: the general budget still has room
    resp = await tight.get("/foods/list", params={"group_id": search["group_id"]}, headers=carer.headers)
    assert resp.status == 200
    assert resp.headers["X-RateLimit-Limit"] == str(GENERAL)


async def test_photo_uploads_are_counted_per_user_whatever_the_outcome(tight):
    carer = await caller(tight)
    status, pet = await call(tight, "POST", "/pets/create", carer, json={"name": "Miso", "pet_type": "cat"})
    assert status == 200
    upload = f"/pets/{pet['data']['id']}/photo/upload"
    # not an image: refused by the handler (400), and still an upload attempt
    first = await tight.post(upload, data={"file": b"not an image"}, headers=carer.headers)
    assert first.status == 400
    second = await tight.post(upload, data={"file": b"not an image"}, headers=carer.headers)
    assert_limited(second, await second.json(), PHOTOS)
    # the food photo upload shares the budget
    resp = await tight.post("/foods/1/photo", data={"file": b"x"}, headers=carer.headers)
    assert resp.status == 429


@pytest.mark.parametrize(
    "seconds,words", [(3600, "1 hour"), (60, "1 minute"), (7200, "2 hours"), (86_400, "1 day"), (45, "45 seconds")]
)
def test_window_words(seconds, words):
    assert window_words(seconds) == words
