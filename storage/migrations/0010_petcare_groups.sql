-- 002 groups and the pets in them (issue 12): invitations, who invited whom, when a pet joined
-- its group.

-- Single-use invitation codes. Only the code's SHA-256 is kept: the code is shown once, to the
-- member who made it. `used_at` (not `used_by`, which a deleted account nulls) marks it spent.
create table group_invitations (
    id bigserial primary key,
    group_id bigint not null references groups (id) on delete cascade,
    code_hash text not null unique,
    created_by bigint references users (id) on delete set null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_by bigint references users (id) on delete set null,
    used_at timestamptz
);
create index group_invitations_group_idx on group_invitations (group_id);

alter table group_members add column invited_by bigint references users (id) on delete set null;
alter table group_members add column updated_at timestamptz not null default now();
-- the per-user cap counts these
create index groups_creator_idx on groups (creator_id);

-- when the pet entered its current group (null: in none)
alter table pets add column group_assigned_at timestamptz;
