-- Identity: one account for all four contracts.

create table users (
    id bigserial primary key,
    email text not null check (length(email) between 3 and 255),
    -- 000/002 show one display name; 003 shows username + first/last name. All are kept.
    name text check (length(name) <= 255),
    username text check (length(username) <= 255),
    first_name text check (length(first_name) <= 255),
    last_name text check (length(last_name) <= 255),
    -- 003 `avatar` and 002 `picture`: an absolute URL or a path under the media folder
    avatar text check (length(avatar) <= 2048),
    -- argon2id of the lowercase SHA-256 hex of the password; null for accounts made by OAuth only
    password_hash text,
    -- the provider that last signed this account in (003 shows these; all links are in user_providers)
    provider_name text,
    provider_id text,
    email_verified_at timestamptz,
    is_active boolean not null default true,
    is_premium boolean not null default false,
    -- site administrators (000 lets admins read vaccinations and microchips)
    is_admin boolean not null default false,
    -- how the account came to be: 'email', an API key's name (002 /user/create), 'google', 'github'
    source text not null default 'email',
    -- bumped to invalidate every signed JWT issued before (password reset, account deletion)
    token_epoch integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));
create unique index users_username_key on users (lower(username)) where username is not null;

create table user_providers (
    provider text not null check (provider in ('google', 'github')),
    provider_user_id text not null,
    user_id bigint not null references users (id) on delete cascade,
    email text,
    avatar text,
    linked_at timestamptz not null default now(),
    primary key (provider, provider_user_id),
    unique (user_id, provider)
);

create table personal_access_tokens (
    id bigserial primary key,
    user_id bigint not null references users (id) on delete cascade,
    name text not null check (length(name) between 1 and 255),
    -- what minted it: 'login' (003/002 sign-in), 'api' (token management), 'gpt' (GPT bridge),
    -- 'oauth' (OAuth callbacks), 'tenant' (001 tenant apps)
    kind text not null default 'api',
    -- SHA-256 hex of the secret; the secret itself is shown once and never stored
    token_hash text not null unique,
    abilities jsonb not null default '["*"]'::jsonb,
    last_used_at timestamptz,
    expires_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index personal_access_tokens_user_idx on personal_access_tokens (user_id, created_at);
-- 000: a person's managed tokens have distinct names (duplicate -> 422 errors.name)
create unique index personal_access_tokens_api_name_key on personal_access_tokens (user_id, name) where kind = 'api';

-- 002's /user/create is guarded by an API key: `Bearer <key_id>:<secret>` or `X-API-Key`
create table api_keys (
    id bigserial primary key,
    name text not null unique check (length(name) between 1 and 100),
    key_id text not null unique,
    secret_hash text not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

-- 002 groups; every user gets a personal one (the group endpoints come with the pet care issue)
create table groups (
    id bigserial primary key,
    name text not null check (length(name) between 1 and 50),
    creator_id bigint not null references users (id) on delete cascade,
    is_personal boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create unique index groups_one_personal_key on groups (creator_id) where is_personal;

create table group_members (
    group_id bigint not null references groups (id) on delete cascade,
    user_id bigint not null references users (id) on delete cascade,
    role text not null check (role in ('creator', 'member', 'viewer')),
    joined_at timestamptz not null default now(),
    primary key (group_id, user_id)
);
create index group_members_user_idx on group_members (user_id);

-- one live reset token per address (a new request replaces the old); only its SHA-256 is kept
create table password_reset_tokens (
    email text primary key,
    token_hash text not null,
    created_at timestamptz not null default now()
);

create table email_verification_tokens (
    token_hash text primary key,
    user_id bigint not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index email_verification_tokens_user_idx on email_verification_tokens (user_id);

-- mail that was not sent over SMTP (MAIL_MAILER=log, the embedded default), for people and tests
create table mail_outbox (
    id bigserial primary key,
    to_address text not null,
    subject text not null,
    body_text text not null,
    body_html text,
    kind text not null,
    created_at timestamptz not null default now()
);
