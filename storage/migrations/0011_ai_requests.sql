-- 003's AI generations: one row per POST /api/ai/generate, the record the status route shows
-- (pending -> running -> finished | failed, domain/ai.py). The provider call itself runs in a Ray
-- task (jobs/ai.py) whose `jobs` row carries the retries; `job_id` links the two.
create table ai_requests (
    id bigserial primary key,
    user_id bigint not null references users (id) on delete cascade,
    status text not null default 'pending'
        check (status in ('pending', 'running', 'finished', 'failed')),
    prompt text not null,
    -- the chat-style body, when the request sent `messages[]` instead of a prompt
    messages jsonb,
    model text,
    max_tokens integer not null check (max_tokens between 1 and 2048),
    is_async boolean not null default false,
    -- the provider's JSON answer, as it came
    result jsonb,
    error text,
    -- provider, model, tokens, latency_ms, attempts, and on failure error_kind / retry_after_s
    meta jsonb not null default '{}'::jsonb,
    job_id bigint references jobs (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    finished_at timestamptz
);

-- the status route reads by id and owner; a user's history reads newest first
create index ai_requests_user_idx on ai_requests (user_id, created_at desc);
