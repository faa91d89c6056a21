-- Background jobs: one row per job, the system of record for what Ray tasks do.
create table jobs (
    id bigserial primary key,
    kind text not null,
    payload jsonb not null default '{}'::jsonb,
    status text not null default 'pending'
        check (status in ('pending', 'running', 'finished', 'failed')),
    attempts integer not null default 0 check (attempts >= 0),
    max_attempts integer not null default 5 check (max_attempts >= 1),
    result jsonb,
    error text,
    -- a caller-chosen key makes submit itself idempotent (a retried HTTP request queues one job)
    idempotency_key text unique,
    -- not before: set by the retry backoff
    run_after timestamptz not null default now(),
    -- which attempt holds the job while running; a stale claim is what the sweeper looks for
    claimed_by text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz
);

create index jobs_unfinished_idx on jobs (updated_at) where status in ('pending', 'running');
create index jobs_kind_idx on jobs (kind, created_at desc);
