"""Photo creation from received uploads (guests and tenant admins), the package limit (also under
concurrency), the image task through Ray (metadata stripped, orientation applied, the feed rule),
its failure and re-run paths, and the tenant's photo list."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from domain.tenant_abilities import PHOTOS_READ, PHOTOS_WRITE
from gateway.kernel.keys import pool_key
from jobs import images
from jobs.registry import JobContext, PermanentJobError
from tests.builders import bearer
from tests.event_builders import make_event, make_package, make_photo, make_tenant, make_tenant_admin
from tests.events import photo_fixtures as fx
from tests.events.photo_fixtures import (
    assert_envelope,
    device,
    guest_photo,
    guest_upload,
    media_store,
    pending_photo,
    put_bytes,
    run_image_job,
    wait_photo,
)
from tests.waiting import eventually


async def _event(client, *, photo_limit: int | None = None, **fields):
    package = "standard"
    if photo_limit is not None:
        package = (await make_package(client.app, photo_limit=photo_limit))["slug"]
    tenant = await make_tenant(client.app, package=package)
    return await make_event(client.app, tenant["id"], **fields)


def _photos(event) -> str:
    return f"/api/v1/events/{event['guest_token']}/photos"


async def _event_row(client, event_id: int):
    return await client.app[pool_key].fetchrow("select * from events where id = $1", event_id)


# -- guests ---------------------------------------------------------------------------------------


async def test_a_guest_photo_is_processed_stripped_and_enters_the_feed(client):
    event = await _event(client)  # moderation auto
    guest = device()
    resp = await guest_photo(client, event, fx.jpeg_with_exif(80, 40), headers=guest)
    assert resp.status == 201
    data = (await resp.json())["data"]
    assert (data["status"], data["moderation"], data["event_id"], data["url"]) == (
        "pending", "pending", event["id"], None
    )
    assert (await _event_row(client, event["id"]))["photo_count"] == 1

    row = await wait_photo(client, data["id"])
    assert (row["status"], row["moderation"], row["failure_reason"]) == ("ready", "approved", None)
    assert (row["width"], row["height"], row["content_type"]) == (40, 80, "image/jpeg")
    event_row = await _event_row(client, event["id"])
    assert row["feed_seq"] == event_row["feed_version"] == 1 and row["approved_at"] is not None
    assert row["device_id"] == guest["X-Device-Id"]

    store = media_store(client)
    prefix = f"{event['id']}/{row['id']}-"
    for key in (row["original_key"], row["web_key"], row["thumb_key"]):
        assert key.startswith(prefix) and len(key.split("/")[1]) == len(f"{row['id']}-") + 16
    original = Image.open(io.BytesIO(await store.read(row["original_key"])))
    assert original.size == (40, 80) and len(original.getexif()) == 0
    assert row["size_bytes"] == len(await store.read(row["original_key"]))
    upload = await client.app[pool_key].fetchrow("select * from photo_uploads where id = $1", row["upload_id"])
    assert upload["consumed_at"] is not None
    assert not await store.exists(upload["media_key"])  # the raw upload, GPS and all, is gone

    served = await client.get(f"/storage/events/{row['thumb_key']}")
    assert served.status == 200 and served.content_type == "image/jpeg"
    # the job row is finished just after the photo's own commit: wait for it, bounded
    async def job_done():
        job = await client.app[pool_key].fetchrow(
            "select * from jobs where idempotency_key = $1", f"photo:{row['id']}"
        )
        return job if job["status"] != "running" else None

    job = await eventually(job_done, timeout=10, interval=0.05, what="the image job's row")
    assert (job["kind"], job["status"]) == ("images.process_photo", "finished")


async def test_manual_moderation_keeps_a_processed_photo_out_of_the_feed(client):
    event = await _event(client, moderation="manual")
    resp = await guest_photo(client, event, fx.png(), headers=device())
    assert resp.status == 201
    row = await wait_photo(client, (await resp.json())["data"]["id"])
    assert (row["status"], row["moderation"], row["feed_seq"]) == ("ready", "pending", None)
    assert (await _event_row(client, event["id"]))["feed_version"] == 0


async def test_an_upload_makes_one_photo(client):
    event = await _event(client)
    guest = device()
    upload_id = await guest_upload(client, event, headers=guest)
    first = await client.post(_photos(event), json={"upload_id": upload_id}, headers=guest)
    assert first.status == 201
    again = await client.post(_photos(event), json={"upload_id": upload_id}, headers=guest)
    assert again.status == 409
    assert_envelope(await again.json(), "upload_already_used")
    assert (await _event_row(client, event["id"]))["photo_count"] == 1


async def test_an_upload_must_be_received_and_belong_to_this_event_and_device(client):
    event, other_event = await _event(client), await _event(client)
    guest = device()
    resp = await client.post(f"/api/v1/events/{event['guest_token']}/photos/upload-url",
                             json={"content_type": "image/jpeg", "size": 1000}, headers=guest)
    not_sent = (await resp.json())["data"]["upload_id"]
    resp = await client.post(_photos(event), json={"upload_id": not_sent}, headers={**guest, "Accept-Language": "de"})
    assert resp.status == 409
    message = assert_envelope(await resp.json(), "upload_not_received")["message"]
    assert message == "Die Fotodaten wurden noch nicht hochgeladen."

    received = await guest_upload(client, event, headers=guest)
    elsewhere = await guest_upload(client, other_event, headers=guest)
    for upload_id, headers in ((received, device()), (elsewhere, guest), ("f" * 32, guest)):
        resp = await client.post(_photos(event), json={"upload_id": upload_id}, headers=headers)
        assert resp.status == 422
        error = assert_envelope(await resp.json(), "invalid_upload")
        assert error["meta"]["fields"] == {"upload_id": ["The selected upload id is invalid."]}
    assert (await _event_row(client, event["id"]))["photo_count"] == 0

    resp = await client.post(_photos(event), json={"upload_id": received})
    assert resp.status == 400
    assert_envelope(await resp.json(), "device_id_required")
    resp = await client.post(_photos(event), json={}, headers=guest)
    assert resp.status == 422
    assert set(assert_envelope(await resp.json(), "validation_failed")["meta"]["fields"]) == {"upload_id"}
    resp = await client.post(f"/api/v1/events/{event['slug']}/photos", json={"upload_id": received}, headers=guest)
    assert resp.status == 404
    assert_envelope(await resp.json(), "event_not_found")  # as on every guest route


async def test_tasks_and_emotions_must_be_the_tenants_and_visible(client):
    pool = client.app[pool_key]
    event = await _event(client)
    tenant_id = event["tenant_id"]
    other = await make_tenant(client.app)
    global_rows = await pool.fetch("select id from tasks where tenant_id is null order by id limit 2")
    global_task, hidden_task = [r["id"] for r in global_rows]
    await pool.execute(
        "insert into tenant_task_overrides (tenant_id, task_id, hidden) values ($1, $2, true)", tenant_id, hidden_task
    )
    own_task = await pool.fetchval("insert into tasks (tenant_id, title) values ($1, 'Ours') returning id", tenant_id)
    foreign_task = await pool.fetchval(
        "insert into tasks (tenant_id, title) values ($1, 'Theirs') returning id", other["id"]
    )
    emotion = await pool.fetchval("select id from emotions where tenant_id is null order by id limit 1")
    foreign_emotion = await pool.fetchval(
        "insert into emotions (tenant_id, slug, name) values ($1, 'theirs', 'Theirs') returning id", other["id"]
    )
    guest = device()

    ok = await guest_photo(client, event, headers=guest, task_id=global_task, emotion_id=emotion)
    assert ok.status == 201
    assert ((await ok.json())["data"]["task_id"], (await ok.json())["data"]["emotion_id"]) == (global_task, emotion)
    assert (await guest_photo(client, event, headers=guest, task_id=own_task)).status == 201

    cases = [
        ({"task_id": hidden_task}, "task_id"),
        ({"task_id": foreign_task}, "task_id"),
        ({"task_id": 10**12}, "task_id"),
        ({"emotion_id": foreign_emotion}, "emotion_id"),
        ({"task_id": "1"}, "task_id"),
        ({"emotion_id": 0}, "emotion_id"),
    ]
    for fields, name in cases:
        resp = await guest_photo(client, event, headers=guest, **fields)
        assert resp.status == 422, fields
        assert set(assert_envelope(await resp.json(), "validation_failed")["meta"]["fields"]) == {name}

    # an event that picked its tasks offers only those
    await pool.execute("insert into event_tasks (event_id, task_id) values ($1, $2)", event["id"], own_task)
    resp = await guest_photo(client, event, headers=guest, task_id=global_task)
    assert resp.status == 422
    assert (await guest_photo(client, event, headers=guest, task_id=own_task)).status == 201
    assert (await _event_row(client, event["id"]))["photo_count"] == 3


async def test_an_archived_event_takes_no_bytes_and_no_photos(client):
    event = await _event(client)
    guest = device()
    upload_id = await guest_upload(client, event, headers=guest)
    resp = await client.post(f"/api/v1/events/{event['guest_token']}/photos/upload-url",
                             json={"content_type": "image/jpeg", "size": 1000}, headers=guest)
    pending_url = (await resp.json())["data"]["upload_url"]
    await client.app[pool_key].execute(
        "update events set status = 'archived', archived_at = now() where id = $1", event["id"]
    )
    resp = await client.post(_photos(event), json={"upload_id": upload_id}, headers=guest)
    assert resp.status == 409
    assert_envelope(await resp.json(), "event_not_open")
    resp = await put_bytes(client, pending_url, fx.jpeg())
    assert resp.status == 409
    assert_envelope(await resp.json(), "event_not_open")


# -- the package limit ----------------------------------------------------------------------------


async def test_the_package_limit_is_enforced_with_exact_meta(client):
    event = await _event(client, photo_limit=2)
    guest = device()
    uploads = [await guest_upload(client, event, headers=guest) for _ in range(3)]
    for upload_id in uploads[:2]:
        assert (await client.post(_photos(event), json={"upload_id": upload_id}, headers=guest)).status == 201
    resp = await client.post(_photos(event), json={"upload_id": uploads[2]}, headers=guest)
    assert resp.status == 403
    error = assert_envelope(await resp.json(), "photo_limit_exceeded")
    assert error["meta"] == {"limit": 2, "used": 2, "remaining": 0}
    assert error["title"] == "Upload Limit Reached"
    assert error["message"] == "2 of 2 photos have been uploaded. Please contact the team to upgrade."
    de = await client.post(_photos(event), json={"upload_id": uploads[2]}, headers={**guest, "Accept-Language": "de"})
    error = assert_envelope(await de.json(), "photo_limit_exceeded")
    assert error["message"] == "Es wurden 2 von 2 Fotos hochgeladen. Bitte kontaktiere das Team für ein Upgrade."
    assert error["title"] == "Upload-Limit erreicht"
    # the refused upload was not consumed: it can still become a photo once a slot frees
    upload = await client.app[pool_key].fetchrow("select consumed_at from photo_uploads where id = $1", uploads[2])
    assert upload["consumed_at"] is None


async def test_concurrent_creations_never_exceed_the_limit(client):
    limit, attempts = 3, 8
    event = await _event(client, photo_limit=limit)
    guests = [device() for _ in range(attempts)]
    uploads = [await guest_upload(client, event, fx.jpeg(16, 16), headers=g) for g in guests]
    responses = await asyncio.gather(*(
        client.post(_photos(event), json={"upload_id": u}, headers=g) for u, g in zip(uploads, guests, strict=True)
    ))
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] * limit + [403] * (attempts - limit)
    pool = client.app[pool_key]
    assert (await _event_row(client, event["id"]))["photo_count"] == limit
    assert await pool.fetchval("select count(*) from photos where event_id = $1", event["id"]) == limit
    assert await pool.fetchval(
        "select count(*) from photo_uploads where event_id = $1 and consumed_at is not null", event["id"]
    ) == limit


# -- the image task: failure and re-runs ----------------------------------------------------------


async def test_a_photo_that_cannot_be_decoded_fails_and_frees_its_slot(client):
    event = await _event(client)
    photo, key = await pending_photo(client, event, fx.truncated_jpeg())
    with pytest.raises(PermanentJobError):
        await run_image_job(client, photo["id"])
    row = await client.app[pool_key].fetchrow("select * from photos where id = $1", photo["id"])
    assert (row["status"], row["failure_reason"], row["feed_seq"]) == ("failed", "corrupt_image", None)
    assert (await _event_row(client, event["id"]))["photo_count"] == 0
    assert not await media_store(client).exists(key)
    # a re-run changes nothing (and frees nothing twice)
    assert (await run_image_job(client, photo["id"]))["outcome"] == "already_failed"
    assert (await _event_row(client, event["id"]))["photo_count"] == 0


async def test_a_re_run_of_a_ready_photo_does_nothing(client):
    event = await _event(client)
    photo, key = await pending_photo(client, event, fx.jpeg(30, 30))
    result = await run_image_job(client, photo["id"])
    assert result == {"photo_id": photo["id"], "outcome": "ready", "in_feed": True, "feed_version": 1}
    before = await client.app[pool_key].fetchrow("select * from photos where id = $1", photo["id"])
    assert (await run_image_job(client, photo["id"]))["outcome"] == "already_ready"
    assert await client.app[pool_key].fetchrow("select * from photos where id = $1", photo["id"]) == before
    assert (await _event_row(client, event["id"]))["feed_version"] == 1
    assert not await media_store(client).exists(key)
    # a run that died after its commit but before deleting the raw upload: the re-run deletes it
    await media_store(client).put(key, fx.jpeg(30, 30))
    assert (await run_image_job(client, photo["id"]))["outcome"] == "already_ready"
    assert not await media_store(client).exists(key)


async def test_a_bad_payload_fails_the_job_permanently(client):
    async with client.app[pool_key].acquire() as conn:
        ctx = JobContext(job_id=0, kind=images.KIND, attempt=1, max_attempts=5, conn=conn)
        with pytest.raises(PermanentJobError):
            await images.process_photo({"photo_id": "x"}, ctx)


# -- tenant admins --------------------------------------------------------------------------------


async def test_a_tenant_admin_adds_photos_to_own_events_only(client):
    tenant, other = await make_tenant(client.app), await make_tenant(client.app)
    user, token = await make_tenant_admin(client.app, tenant["id"])
    event = await make_event(client.app, tenant["id"], moderation="manual")
    foreign = await make_event(client.app, other["id"])
    resp = await client.post(f"/api/v1/tenant/events/{event['id']}/photos/upload-url",
                             json={"content_type": "image/webp", "size": 5000}, headers=bearer(token))
    upload = (await resp.json())["data"]
    assert (await put_bytes(client, upload["upload_url"], fx.webp(), "image/webp")).status == 200
    path = f"/api/v1/tenant/events/{event['id']}/photos"

    resp = await client.post(path, json={"upload_id": upload["upload_id"]})
    assert resp.status == 401
    _, reader = await make_tenant_admin(client.app, tenant["id"], abilities=(PHOTOS_READ,))
    resp = await client.post(path, json={"upload_id": upload["upload_id"]}, headers=bearer(reader))
    assert resp.status == 403
    assert_envelope(await resp.json(), "missing_ability")
    _, colleague = await make_tenant_admin(client.app, tenant["id"], abilities=(PHOTOS_WRITE,))
    resp = await client.post(path, json={"upload_id": upload["upload_id"]}, headers=bearer(colleague))
    assert resp.status == 422  # another admin's upload
    _, stranger = await make_tenant_admin(client.app, other["id"])
    resp = await client.post(path, json={"upload_id": upload["upload_id"]}, headers=bearer(stranger))
    assert resp.status == 404
    assert_envelope(await resp.json(), "not_found")

    resp = await client.post(path, json={"upload_id": upload["upload_id"]}, headers=bearer(token))
    assert resp.status == 201
    data = (await resp.json())["data"]
    assert (data["status"], data["moderation"], data["device_id"], data["event_id"]) == (
        "pending", "pending", None, event["id"]
    )
    row = await wait_photo(client, data["id"])
    assert (row["status"], row["user_id"], row["width"], row["height"]) == ("ready", user["id"], 50, 20)

    # a guest's upload is not the admin's to use, and B's admin cannot create in A's event
    guest_upload_id = await guest_upload(client, await make_event(client.app, tenant["id"]), headers=device())
    resp = await client.post(path, json={"upload_id": guest_upload_id}, headers=bearer(token))
    assert resp.status == 422
    resp = await client.post(
        f"/api/v1/tenant/events/{foreign['id']}/photos", json={"upload_id": "a" * 32}, headers=bearer(token)
    )
    assert resp.status == 404


async def test_the_tenant_lists_an_events_photos_by_status(client):
    tenant, other = await make_tenant(client.app), await make_tenant(client.app)
    _, token = await make_tenant_admin(client.app, tenant["id"])
    event = await make_event(client.app, tenant["id"], moderation="manual")
    approved = await make_photo(client.app, event)
    waiting = await make_photo(client.app, event, approved=False)
    processing = await make_photo(client.app, event, approved=False, status="pending")
    failed = await make_photo(client.app, event, approved=False, status="failed")
    pool = client.app[pool_key]
    await pool.execute("update photos set is_featured = true where id = $1", approved["id"])
    rejected = await make_photo(client.app, event, approved=False)
    await pool.execute("update photos set moderation = 'rejected' where id = $1", rejected["id"])
    path = f"/api/v1/tenant/events/{event['id']}/photos"

    resp = await client.get(path, headers=bearer(token))
    assert resp.status == 200
    body = await resp.json()
    assert [p["id"] for p in body["data"]] == [
        rejected["id"], failed["id"], processing["id"], waiting["id"], approved["id"]
    ]
    assert body["meta"]["total"] == 5 and set(body["links"]) == {"first", "last", "prev", "next"}
    first = body["data"][-1]
    assert {"status", "moderation", "original_url", "url", "thumbnail_url", "is_featured", "device_id"} <= set(first)
    assert first["original_url"].endswith(approved["original_key"])

    expected = {
        "pending": [processing],
        "ready": [rejected, waiting, approved],
        "failed": [failed],
        "approved": [approved],
        "rejected": [rejected],
        "featured": [approved],
        "unmoderated": [waiting],
    }
    for status, photos in expected.items():
        resp = await client.get(path, params={"status": status}, headers=bearer(token))
        assert [p["id"] for p in (await resp.json())["data"]] == [p["id"] for p in photos], status

    resp = await client.get(path, params={"per_page": 2, "page": 2, "status": "ready"}, headers=bearer(token))
    body = await resp.json()
    assert [p["id"] for p in body["data"]] == [approved["id"]]
    assert body["links"]["prev"].endswith("?page=1&per_page=2&status=ready")

    for params, field in (({"per_page": 101}, "per_page"), ({"status": "lost"}, "status"), ({"page": "x"}, "page")):
        resp = await client.get(path, params=params, headers=bearer(token))
        assert resp.status == 422
        assert set(assert_envelope(await resp.json(), "validation_failed")["meta"]["fields"]) == {field}

    _, stranger = await make_tenant_admin(client.app, other["id"])
    resp = await client.get(path, headers=bearer(stranger))
    assert resp.status == 404
    assert_envelope(await resp.json(), "not_found")
    assert (await client.get(path)).status == 401
    _, writer = await make_tenant_admin(client.app, tenant["id"], abilities=(PHOTOS_WRITE,))
    resp = await client.get(path, headers=bearer(writer))
    assert resp.status == 403
    assert_envelope(await resp.json(), "missing_ability")
