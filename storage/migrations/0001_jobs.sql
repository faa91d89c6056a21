-- Background jobs: one row per job, the system of record for what Ray tasks do (see jobs/).
create table jobs (
    id bigserial primary key,
    kind text not null,
    payload jsonb not null default '{}'::jsonb,
    status text not null default 'pending'
        check (status in ('pending', 'running', 'finished', 'failed')),
    -- attempts started so far (a claim counts one, also when its worker then dies)
    attempts integer not null default 0 check (attempts >= 0),
    max_attempts integer not null default 5 check (max_attempts >= 1),
    result jsonb,
    error text,
    -- a caller-chosen key makes submit itself idempotent (a retried HTTP request queues one job)
    idempotency_key text unique,
    -- not before: set by the retry backoff
    run_after timestamptz not null default now(),
    -- the dispatch that owns the job: set when a dispatch is reserved (the row may still be
    -- pending), checked by every write its Ray task makes. Null on a pending row means "due for a
    -- dispatch once run_after passes"; a stale owner (updated_at old) is what the sweeper replaces.
    claimed_by text,
    created_at timestamptz not null default now(),
    -- the owner's heartbeat while running; also bumped by every dispatch and state change
    updated_at timestamptz not null default now(),
    started_at timestamptz,
    finished_at timestamptz
);

-- the sweeper's two questions: which owned jobs went quiet, which unowned jobs are due
create index jobs_unfinished_idx on jobs (updated_at) where status in ('pending', 'running');
create index jobs_due_idx on jobs (run_after) where status = 'pending' and claimed_by is null;
create index jobs_kind_idx on jobs (kind, created_at desc);
