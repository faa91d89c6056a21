"""Every URL of 001 (events) at /api/v1.

The guest polls are not on the /api/v1 sub-app: they are most of all traffic, so the composition
root mounts them on the root app under the same /api/v1 paths (`setup_fast_routes`), before the
sub-app, because aiohttp wraps every handler of a sub-app in one more middleware layer of its own,
a cost the polls cannot afford. Their answers are the same (the envelope follows the path), and
they use only root-app keys. Order matters where paths overlap (`/events/{token}` before its
children): this is the order they have always been registered in.
"""

from __future__ import annotations

from aiohttp import web

from gateway.events import (
    archive,
    gallery,
    guest_events,
    ledger,
    notifications,
    photos,
    polling,
    purchases,
    settings,
    tasks,
    tenant_auth,
    tenant_events,
    tenant_media,
    tenants_admin,
    uploads,
    webhooks,
)


def setup_fast_routes(root: web.UrlDispatcher, prefix: str) -> None:
    root.add_get(f"{prefix}/events/{{token}}/stats", polling.event_stats)
    root.add_get(f"{prefix}/events/{{token}}/photos", polling.event_photos)


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/tenant-auth/login", tenant_auth.login)
    router.add_get("/tenant-auth/me", tenant_auth.me)
    router.add_post("/tenant-auth/logout", tenant_auth.logout)
    router.add_post("/tenant-auth/codes", tenant_auth.create_code)
    router.add_post("/tenant-auth/exchange", tenant_auth.exchange)
    router.add_get("/tenants", tenants_admin.list_tenants)
    router.add_get("/tenants/{tenant}", tenants_admin.read_tenant)

    router.add_get("/tenant/events", tenant_events.list_events)
    router.add_post("/tenant/events", tenant_events.create_event)
    router.add_get("/tenant/events/{event}", tenant_events.show_event)
    router.add_put("/tenant/events/{event}", tenant_events.update_event)
    router.add_delete("/tenant/events/{event}", tenant_events.delete_event)
    router.add_post("/tenant/events/{event}/publish", tenant_events.publish_event)
    router.add_post("/tenant/events/{event}/archive", tenant_events.archive_event)

    router.add_get("/tenant/emotions", tasks.list_emotions)
    router.add_post("/tenant/emotions", tasks.create_emotion)
    router.add_delete("/tenant/emotions/{emotion}", tasks.delete_emotion)
    router.add_get("/tenant/tasks", tasks.list_tasks)
    router.add_post("/tenant/tasks", tasks.create_task)
    router.add_put("/tenant/tasks/{task}", tasks.update_task)
    router.add_delete("/tenant/tasks/{task}", tasks.delete_task)
    router.add_post("/tenant/tasks/{task}/restore", tasks.restore_task)
    router.add_get("/tenant/events/{event}/tasks", tasks.get_event_tasks)
    router.add_put("/tenant/events/{event}/tasks", tasks.put_event_tasks)
    router.add_get("/events/{token}/tasks", tasks.guest_tasks)
    router.add_get("/events/{token}/emotions", tasks.guest_emotions)

    router.add_get("/events/{token}", guest_events.show_guest_event)

    router.add_post("/events/{token}/photos", photos.guest_create)
    router.add_post("/tenant/events/{event}/photos", photos.tenant_create)
    router.add_get("/tenant/events/{event}/photos", photos.tenant_list)
    router.add_post("/tenant/photos/{photo}/approve", photos.approve)
    router.add_post("/tenant/photos/{photo}/reject", photos.reject)
    router.add_post("/tenant/photos/{photo}/feature", photos.feature)

    router.add_post("/events/{token}/photos/upload-url", uploads.guest_upload_url)
    router.add_post("/tenant/events/{event}/photos/upload-url", uploads.tenant_upload_url)
    router.add_put("/uploads/{upload_id}", uploads.receive_upload)

    router.add_get("/gallery/{token}", gallery.show_gallery)
    router.add_get("/gallery/{token}/photos", gallery.gallery_photos)
    router.add_get("/gallery/{token}/photos/{photo}/download", gallery.download_photo)
    router.add_get("/tenant/events/{event}/photos/archive", archive.download_archive)
    router.add_get(tenant_media.PATH + "/{token}/{key:.+}", tenant_media.serve)

    router.add_get("/tenant/products", purchases.list_products)
    router.add_post("/tenant/purchases", purchases.create_purchase)
    router.add_get("/tenant/purchases", purchases.list_purchases)
    router.add_get("/tenant/purchases/{purchase}", purchases.show_purchase)
    router.add_get("/tenant/ledger", ledger.tenant_ledger)
    router.add_get("/tenants/{tenant}/ledger", ledger.admin_ledger)
    router.add_get("/tenant/notifications/logs", notifications.notification_logs)
    router.add_get("/tenants/{tenant}/notifications/logs", notifications.admin_notification_logs)
    router.add_get("/tenant/notifications/settings", notifications.show_settings)
    router.add_put("/tenant/notifications/settings", notifications.update_settings)
    router.add_post("/tenant/notifications/settings/secret", notifications.rotate_secret)
    router.add_get("/tenant/settings", settings.show_settings)
    router.add_patch("/tenant/settings", settings.patch_settings)
    router.add_put("/tenant/settings", settings.put_settings)
    router.add_post("/tenant/settings/logo", settings.upload_logo)
    router.add_delete("/tenant/settings/logo", settings.delete_logo)
    router.add_get("/tenants/{tenant}/settings", settings.admin_settings)
    router.add_post("/webhooks/revenuecat", webhooks.revenuecat)
    router.add_post("/webhooks/media", webhooks.media_status)
    router.add_post("/webhooks/deletion", webhooks.deletion)
