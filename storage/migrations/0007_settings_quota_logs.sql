-- Runtime settings (roost settings get|set), read by every gateway every few seconds.
create table system_settings (
    name text primary key,
    value jsonb not null,
    updated_at timestamptz not null default now()
);
insert into system_settings (name, value) values
    ('api_daily_quota_regular', '1000'),
    ('api_request_logs_retention_days', '30');

-- One row per /api request, written behind in batches by each gateway. No foreign key on user_id:
-- a batch must not fail because its user was deleted before the flush, and logs outlive users.
create table api_request_logs (
    id bigserial primary key,
    user_id bigint,
    method text not null,
    path text not null,
    route_uri text,
    status_code smallint not null,
    auth_mode text not null check (auth_mode in ('pat', 'session', 'none')),
    created_at timestamptz not null default now()
);
create index api_request_logs_created_at on api_request_logs (created_at);
create index api_request_logs_user_created on api_request_logs (user_id, created_at);

-- Last run of each scheduled maintenance task, claimed atomically so one gateway runs it per period.
create table scheduled_runs (
    name text primary key,
    last_run_at timestamptz not null
);
