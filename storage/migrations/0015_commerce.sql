-- 001 commerce (issue 14): what a tenant can buy, purchase intents, the append-only ledger with
-- the balance kept beside it, provider subscriptions, and signed webhook deliveries.

-- The catalogue: a package (a subscription for `period_days`, or for good when null) or a pack
-- of credits, each with the provider's product id. Prices live here, never in a client's request.
create table commerce_products (
    id serial primary key,
    provider_product_id text not null unique check (provider_product_id ~ '^[A-Za-z0-9._:-]{1,255}$'),
    kind text not null check (kind in ('package', 'credits')),
    package_id integer references packages (id),
    credits integer not null default 0 check (credits >= 0),
    amount_cents bigint not null check (amount_cents >= 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    period_days integer check (period_days > 0),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    check ((kind = 'package') = (package_id is not null)),
    check (kind = 'package' or credits > 0)
);
insert into commerce_products (provider_product_id, kind, package_id, credits, amount_cents, currency, period_days)
select v.product, v.kind, p.id, v.credits, v.cents, 'EUR', v.days
from (values
    ('roost.starter.monthly', 'package', 'starter', 0, 1900, 30),
    ('roost.standard.monthly', 'package', 'standard', 0, 4900, 30),
    ('roost.pro.yearly', 'package', 'pro', 0, 49900, 365)
) as v (product, kind, package, credits, cents, days)
join packages p on p.slug = v.package;
insert into commerce_products (provider_product_id, kind, credits, amount_cents, currency) values
    ('roost.credits.10', 'credits', 10, 999, 'EUR'),
    ('roost.credits.50', 'credits', 50, 3999, 'EUR');

-- A purchase intent: pending until the provider's webhook completes (or fails, refunds) it.
create table purchases (
    id bigserial primary key,
    tenant_id bigint not null references tenants (id) on delete cascade,
    product_id integer not null references commerce_products (id),
    provider text not null default 'revenuecat' check (provider in ('revenuecat')),
    amount_cents bigint not null check (amount_cents >= 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    status text not null default 'pending'
        check (status in ('pending', 'completed', 'failed', 'refunded', 'expired')),
    -- the client's Idempotency-Key and a hash of what it sent with it (same key, other body: 422)
    idempotency_key text check (length(idempotency_key) between 1 and 255),
    request_hash text,
    -- the provider's transaction that completed it (one transaction completes one intent)
    provider_transaction_id text,
    created_by bigint references users (id) on delete set null,
    -- a pending intent nobody paid for lapses to `expired` after this
    expires_at timestamptz not null,
    completed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (tenant_id, idempotency_key),
    unique (provider, provider_transaction_id)
);
create index purchases_tenant_idx on purchases (tenant_id, created_at desc, id desc);
create index purchases_pending_idx on purchases (tenant_id, product_id, created_at) where status = 'pending';

-- What the tenant was credited and debited, in order. Never updated; deleted only with its tenant.
create table ledger_entries (
    id bigserial primary key,
    tenant_id bigint not null references tenants (id) on delete cascade,
    type text not null check (type in ('purchase', 'refund', 'package_change', 'expiry', 'cancellation')),
    -- credits this entry moves: positive credits the tenant, negative debits it
    credits bigint not null default 0,
    -- the tenant's credit balance after this entry (the previous entry's plus `credits`)
    balance_after bigint not null,
    -- money that moved with it, in minor units (negative on a refund)
    amount_cents bigint not null default 0,
    currency text check (currency ~ '^[A-Z]{3}$'),
    -- the tenant's package after this entry, and until when a subscription holds it
    package_id integer not null references packages (id),
    package_expires_at timestamptz,
    purchase_id bigint references purchases (id) on delete set null,
    -- what caused it, unique: one provider event has at most one effect (exactly once)
    source text not null unique check (length(source) between 1 and 300),
    description text not null default '' check (length(description) <= 500),
    -- when it happened at the provider; created_at is when we wrote it
    occurred_at timestamptz not null,
    created_at timestamptz not null default now()
);
create index ledger_tenant_idx on ledger_entries (tenant_id, id desc);
create index ledger_tenant_type_idx on ledger_entries (tenant_id, type, id desc);

create function ledger_entries_append_only() returns trigger language plpgsql as $$
begin
    -- a delete cascading from its tenant is the one way an entry goes (the tenant row is gone
    -- already when the cascade reaches here)
    if tg_op = 'DELETE' and not exists (select 1 from tenants where id = old.tenant_id) then
        return old;
    end if;
    raise exception 'ledger entries are append-only' using errcode = 'P0001';
end;
$$;
create trigger ledger_entries_append_only before update or delete on ledger_entries
    for each row execute function ledger_entries_append_only();

-- The balance the ledger adds up to, moved in the same transaction as each entry under this
-- row's lock (so entries of one tenant are written one at a time, in order).
create table tenant_accounts (
    tenant_id bigint primary key references tenants (id) on delete cascade,
    credits bigint not null default 0,
    last_entry_id bigint,
    updated_at timestamptz not null default now()
);

-- A provider subscription and the newest state we know of it. `state_at` is the provider's time
-- of the event that set it: an event older than that never overwrites it (out-of-order deliveries).
create table tenant_subscriptions (
    id bigserial primary key,
    tenant_id bigint not null references tenants (id) on delete cascade,
    provider text not null check (provider in ('revenuecat')),
    -- the provider's id of the subscription across renewals (RevenueCat's original_transaction_id)
    subscription_key text not null check (length(subscription_key) between 1 and 255),
    product_id integer not null references commerce_products (id),
    package_id integer not null references packages (id),
    -- the package the tenant had before; it returns to it when the subscription ends
    fallback_package_id integer not null references packages (id),
    status text not null check (status in ('active', 'cancelled', 'billing_issue', 'expired', 'refunded')),
    expires_at timestamptz,
    state_at timestamptz not null,
    last_event_id text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (provider, subscription_key)
);
create index tenant_subscriptions_tenant_idx on tenant_subscriptions (tenant_id);

-- Every verified webhook delivery, once per provider event id (a redelivery changes nothing).
create table webhook_events (
    id bigserial primary key,
    provider text not null check (provider in ('revenuecat', 'media', 'deletion')),
    event_id text not null check (length(event_id) between 1 and 255),
    event_type text not null check (length(event_type) between 1 and 100),
    payload jsonb not null,
    -- which signature scheme it came with (sha256, sha256+timestamp, sha1)
    signature_scheme text not null,
    status text not null default 'received' check (status in ('received', 'processed', 'ignored', 'failed')),
    -- what processing did (or why it did nothing), for operators
    outcome text,
    tenant_id bigint references tenants (id) on delete set null,
    received_at timestamptz not null default now(),
    processed_at timestamptz,
    unique (provider, event_id)
);
create index webhook_events_unprocessed_idx on webhook_events (received_at) where status = 'received';
