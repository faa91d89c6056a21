-- 001 events, part 1: packages, tenants and their admins, events, the task and emotion library,
-- guest photos and their signed uploads.

-- What a tenant bought. Limits are per package; a tenant has one package at a time.
create table packages (
    id serial primary key,
    slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name text not null check (length(name) between 1 and 255),
    -- photos a single event may hold (pending and ready ones count; failed and rejected free a slot)
    photo_limit integer not null check (photo_limit >= 0),
    -- days the public gallery stays open after the event ends (or is published, if it has no end)
    gallery_days integer not null check (gallery_days >= 0),
    -- events a tenant may have at once (null: unlimited)
    event_limit integer check (event_limit >= 0),
    created_at timestamptz not null default now()
);
insert into packages (slug, name, photo_limit, gallery_days, event_limit) values
    ('free', 'Free', 50, 7, 1),
    ('starter', 'Starter', 120, 30, 3),
    ('standard', 'Standard', 500, 90, 10),
    ('pro', 'Pro', 5000, 365, null);

create table tenants (
    id bigserial primary key,
    name text not null check (length(name) between 1 and 255),
    slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    package_id integer not null references packages (id),
    -- branding shown on guest pages and the gallery: {primary_color, secondary_color, logo_url}
    theme jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- A tenant's admin users. An account administers at most one tenant, so signing in to a tenant
-- app needs only email and password.
create table tenant_users (
    user_id bigint primary key references users (id) on delete cascade,
    tenant_id bigint not null references tenants (id) on delete cascade,
    role text not null default 'admin' check (role in ('owner', 'admin')),
    created_at timestamptz not null default now()
);
create index tenant_users_tenant_idx on tenant_users (tenant_id);

create table events (
    id bigserial primary key,
    tenant_id bigint not null references tenants (id) on delete cascade,
    name text not null check (length(name) between 1 and 255),
    slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]{0,99}$'),
    description text check (length(description) <= 5000),
    status text not null default 'draft' check (status in ('draft', 'published', 'archived')),
    -- guests reach an event only by this token (set when first published; never the slug)
    guest_token text unique,
    moderation text not null default 'auto' check (moderation in ('auto', 'manual')),
    starts_at timestamptz,
    ends_at timestamptz,
    published_at timestamptz,
    archived_at timestamptz,
    -- photos holding a slot against the package's photo_limit; raised with a guarded UPDATE so
    -- concurrent uploads can never overshoot the limit
    photo_count integer not null default 0 check (photo_count >= 0),
    -- bumped in the same transaction as every change to the set of approved photos; an approved
    -- photo's feed_seq is the value it was approved at, so the row lock orders approvals per event
    feed_version bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, slug),
    check (ends_at is null or starts_at is null or ends_at >= starts_at)
);
create index events_tenant_idx on events (tenant_id, created_at desc, id desc);

-- The emotion catalogue: global ones (tenant_id null) and a tenant's own.
create table emotions (
    id bigserial primary key,
    tenant_id bigint references tenants (id) on delete cascade,
    slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name text not null check (length(name) between 1 and 100),
    emoji text check (length(emoji) <= 16),
    sort_order integer not null default 0,
    created_at timestamptz not null default now()
);
create unique index emotions_global_slug_key on emotions (slug) where tenant_id is null;
create unique index emotions_tenant_slug_key on emotions (tenant_id, slug) where tenant_id is not null;
insert into emotions (slug, name, emoji, sort_order) values
    ('joy', 'Joy', '😄', 1),
    ('love', 'Love', '❤️', 2),
    ('surprise', 'Surprise', '😮', 3),
    ('laughter', 'Laughter', '😂', 4),
    ('emotional', 'Touched', '🥲', 5),
    ('party', 'Party', '🥳', 6);

-- The task library: global tasks (tenant_id null) and a tenant's own.
create table tasks (
    id bigserial primary key,
    tenant_id bigint references tenants (id) on delete cascade,
    title text not null check (length(title) between 1 and 255),
    description text check (length(description) <= 2000),
    emotion_id bigint references emotions (id) on delete set null,
    sort_order integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index tasks_tenant_idx on tasks (tenant_id, sort_order, id);
insert into tasks (title, description, sort_order) values
    ('Group photo', 'Gather everyone at your table for one picture.', 1),
    ('The first dance', 'Catch the couple on the dance floor.', 2),
    ('Best dressed', 'Find the most stylish guest.', 3),
    ('Cheers!', 'Glasses up: photograph a toast.', 4),
    ('Selfie with the hosts', 'Get into one frame with the hosts.', 5),
    ('Something blue', 'Spot something blue at the event.', 6);

-- A tenant's changes to the global library: its own title/description, or hidden for its events.
create table tenant_task_overrides (
    tenant_id bigint not null references tenants (id) on delete cascade,
    task_id bigint not null references tasks (id) on delete cascade,
    title text check (length(title) between 1 and 255),
    description text check (length(description) <= 2000),
    hidden boolean not null default false,
    updated_at timestamptz not null default now(),
    primary key (tenant_id, task_id)
);

-- Tasks scoped to one event. An event with no rows here offers the tenant's whole library.
create table event_tasks (
    event_id bigint not null references events (id) on delete cascade,
    task_id bigint not null references tasks (id) on delete cascade,
    sort_order integer not null default 0,
    primary key (event_id, task_id)
);

-- Signed uploads: an upload URL names one of these; its bytes land at media_key, once.
create table photo_uploads (
    -- random, URL-safe; also the secret part of nothing (the URL's HMAC signs it with the expiry)
    id text primary key,
    event_id bigint not null references events (id) on delete cascade,
    tenant_id bigint not null references tenants (id) on delete cascade,
    device_id text check (length(device_id) <= 128),
    user_id bigint references users (id) on delete set null,
    content_type text not null,
    declared_size integer not null check (declared_size > 0),
    media_key text not null,
    expires_at timestamptz not null,
    received_at timestamptz,
    received_size integer,
    -- set when a photo is created from it: an upload makes at most one photo
    consumed_at timestamptz,
    created_at timestamptz not null default now()
);
create index photo_uploads_expiry_idx on photo_uploads (expires_at) where consumed_at is null;

create table photos (
    id bigserial primary key,
    event_id bigint not null references events (id) on delete cascade,
    -- denormalised from the event so that every tenant-scoped query can filter on it directly
    tenant_id bigint not null references tenants (id) on delete cascade,
    upload_id text unique references photo_uploads (id) on delete set null,
    device_id text check (length(device_id) <= 128),
    user_id bigint references users (id) on delete set null,
    task_id bigint references tasks (id) on delete set null,
    emotion_id bigint references emotions (id) on delete set null,
    -- processing: pending -> ready | failed (the image task moves it)
    status text not null default 'pending' check (status in ('pending', 'ready', 'failed')),
    failure_reason text,
    -- moderation: pending -> approved | rejected; only approved and ready photos reach guests
    moderation text not null default 'pending' check (moderation in ('pending', 'approved', 'rejected')),
    is_featured boolean not null default false,
    -- media store keys: the re-encoded original, and the web and thumbnail variants
    original_key text,
    web_key text,
    thumb_key text,
    content_type text,
    width integer,
    height integer,
    size_bytes integer,
    -- the event's feed_version when the photo was approved: a per-event, commit-ordered cursor
    feed_seq bigint,
    approved_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (event_id, feed_seq)
);
create index photos_event_idx on photos (event_id, id);
create index photos_feed_idx on photos (event_id, feed_seq) where feed_seq is not null;
create index photos_tenant_idx on photos (tenant_id, id);
