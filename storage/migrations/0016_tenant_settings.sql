-- 001 tenant settings (issue 14, item 4): what a tenant chooses beside its theme (which stays in
-- tenants.theme, where the guest pages have always read it): its own limits within its package's,
-- an uploaded logo and its legal page links. One row per tenant, created by the first write; a
-- tenant without one has chosen nothing (the package's limits, no logo, no links).
create table tenant_settings (
    tenant_id bigint primary key references tenants (id) on delete cascade,
    -- null: the package's figure. Readers take least(package, this) (storage/events.py), so a
    -- package downgraded below the tenant's choice wins without anyone rewriting this row.
    photo_limit integer check (photo_limit > 0),
    gallery_days integer check (gallery_days > 0),
    -- `<tenant_id>/<random>.jpg` under the media folder's logos/ (domain/tenant_settings.py)
    logo_key text check (logo_key ~ '^[1-9][0-9]{0,18}/[0-9a-f]{32}\.jpg$'),
    imprint_url text check (char_length(imprint_url) between 1 and 2048),
    privacy_url text check (char_length(privacy_url) between 1 and 2048),
    terms_url text check (char_length(terms_url) between 1 and 2048),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
