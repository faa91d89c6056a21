-- 003's newsletter with double opt-in (issue 13): one row per address (case-insensitive). A
-- sign-up is `pending` until the mailed one-time link is followed; only the SHA-256 of that
-- link's token is stored, and it is cleared once used. Unsubscribe links are HMACs of the row id
-- (domain/newsletter.py), so no secret for them is stored at all.
create table newsletter_subscriptions (
    id bigserial primary key,
    email text not null check (length(email) between 3 and 255),
    status text not null default 'pending' check (status in ('pending', 'confirmed', 'unsubscribed')),
    confirm_token_hash text unique,
    -- when the last confirmation mail went out: its link's age, and how soon another may be sent
    confirm_sent_at timestamptz,
    confirmed_at timestamptz,
    unsubscribed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index newsletter_subscriptions_email_idx on newsletter_subscriptions (lower(email));
