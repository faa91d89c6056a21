-- An email change mails the old address a one-time link back (issue 9): only the SHA-256 of the
-- link's token is stored, with the address to restore and an expiry.
create table email_change_reverts (
    token_hash text primary key,
    user_id bigint not null references users (id) on delete cascade,
    old_email text not null check (length(old_email) between 3 and 255),
    -- the address the change set (a revert restores old_email whatever the account has since)
    new_email text not null check (length(new_email) between 3 and 255),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index email_change_reverts_user_idx on email_change_reverts (user_id);
