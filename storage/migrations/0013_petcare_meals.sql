-- 002 meals (issue 12, build items 4 and 5): the feeding log with its nutrition worked out from
-- the food when it was logged, the versions the meal_aggregate actors follow, and each group's
-- day boundary.

create table meals (
    id bigserial primary key,
    pet_id bigint not null references pets (id) on delete cascade,
    -- foods are only ever soft-deleted by the app; a hard delete comes with its group's
    food_id bigint not null references foods (id) on delete cascade,
    -- the pet's group when the meal was logged (the reference keeps it); which group's lists and
    -- totals a meal is in follows the pet's current group (storage/meals.py)
    group_id bigint references groups (id) on delete set null,
    -- who fed the pet (the caller who logged it); a deleted account leaves the meal, unattributed
    fed_by bigint references users (id) on delete set null,
    fed_at timestamptz not null,
    meal_type text check (meal_type in ('breakfast', 'lunch', 'dinner', 'snack')),
    serving_type text not null check (serving_type in ('units', 'grams')),
    serving_amount double precision not null check (serving_amount > 0 and serving_amount <= 10000),
    -- what the serving came to (domain/meals.py's nutrition): grams eaten, kcal and nutrient grams
    actual_weight_g double precision not null check (actual_weight_g >= 0),
    calories double precision not null check (calories >= 0),
    protein_g double precision not null check (protein_g >= 0),
    fat_g double precision not null check (fat_g >= 0),
    moisture_g double precision not null check (moisture_g >= 0),
    carbohydrate_g double precision not null check (carbohydrate_g >= 0),
    notes text check (length(notes) <= 500),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- soft delete: gone from every list, total and summary; the row stays for the record
    deleted_at timestamptz,
    deleted_by bigint references users (id) on delete set null
);
-- every read is one pet's meals over a time range (a group's go through its pets)
create index meals_pet_fed_idx on meals (pet_id, fed_at) where deleted_at is null;
create index meals_food_idx on meals (food_id);

-- The meal_aggregate actors' versions (actors/meal_aggregate.py), as events.feed_version is the
-- event feed's: bumped in the transaction of every meal write under the row's lock, so each is
-- a commit-ordered counter of changes to that pet's (or group's) meals.
alter table pets add column meal_version bigint not null default 0;
alter table groups add column meal_version bigint not null default 0;

-- Where a group's day starts and ends (an IANA zone name, e.g. Asia/Ho_Chi_Minh); null: the
-- server's zone (MEAL_DAY_TIMEZONE). A pet's day is its group's.
alter table groups add column timezone text check (length(timezone) <= 64);

-- A pet that changes group (assign_group, or leaving its group on delete) moves its meals into
-- another group's totals: both groups' versions move in the same transaction, so a group
-- aggregate that missed it sees a newer version at its next read and reloads.
create function pets_meal_group_moved() returns trigger language plpgsql as $$
begin
    update groups set meal_version = meal_version + 1
    where id in (old.group_id, new.group_id);
    return null;
end
$$;
create trigger pets_meal_group_moved
    after update of group_id on pets
    for each row when (old.group_id is distinct from new.group_id)
    execute function pets_meal_group_moved();
