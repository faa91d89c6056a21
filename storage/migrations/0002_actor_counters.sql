-- Durable totals behind the counter shard actors (actors/counters.py): per (kind, key) a number
-- that only the owning shard writes. Whatever a shard holds in memory is rebuilt from here.
create table actor_counters (
    kind text not null,
    key text not null,
    value bigint not null default 0,
    updated_at timestamptz not null default now(),
    primary key (kind, key)
);
