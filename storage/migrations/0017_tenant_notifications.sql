-- 001 tenant notifications (issue 14, item 5): package and limit alerts, created once each by the
-- domain when they happen and delivered by a job (mail, and the tenant's signed webhook).

-- Where a tenant's alerts go. No row: mail to the tenant's owner, no webhook.
create table tenant_notification_settings (
    tenant_id bigint primary key references tenants (id) on delete cascade,
    -- null: the tenant owner's address (its first admin's when it has no owner)
    email text check (email is null or length(email) between 3 and 254),
    webhook_url text check (webhook_url is null or length(webhook_url) between 10 and 2000),
    -- signs every webhook delivery (HMAC-SHA256), so it is kept as it is: a hash could not sign.
    -- Answered once, when it is made or rotated; reads show only whether one is set.
    webhook_secret text check (webhook_secret is null or length(webhook_secret) between 32 and 128),
    secret_rotated_at timestamptz,
    updated_at timestamptz not null default now()
);

create table tenant_notifications (
    id bigserial primary key,
    tenant_id bigint not null references tenants (id) on delete cascade,
    event_id bigint references events (id) on delete set null,
    type text not null check (type in ('photo_limit_80', 'photo_limit_100', 'package_expiring', 'payment_failed')),
    -- what the alert is about, unique per tenant: one alert is created once however often (and
    -- however concurrently) the condition is seen, e.g. `photo_limit_80:event:<id>`
    dedup_key text not null check (length(dedup_key) between 1 and 300),
    status text not null default 'pending' check (status in ('pending', 'sending', 'delivered', 'failed')),
    -- what the alert says (the mail's and the webhook's data)
    payload jsonb not null,
    -- per channel (email, webhook): {status, target, delivered_at?, error?}; a retry skips the
    -- channels already delivered
    channels jsonb not null default '{}'::jsonb,
    attempts integer not null default 0 check (attempts >= 0),
    last_error text check (length(last_error) <= 2000),
    -- the delivery job (its run_after is the next attempt's time while the alert is pending);
    -- null until a gateway has queued it
    job_id bigint references jobs (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    delivered_at timestamptz,
    unique (tenant_id, dedup_key)
);
create index tenant_notifications_tenant_idx on tenant_notifications (tenant_id, id desc);
create index tenant_notifications_unqueued_idx on tenant_notifications (id) where job_id is null and status = 'pending';
