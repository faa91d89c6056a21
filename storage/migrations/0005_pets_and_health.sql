-- Pets for both pet contracts (000 pet health, 002 pet care) and 000's health records.

create table pet_types (
    id serial primary key,
    slug text not null unique,
    name text not null,
    -- capability flags: which health records this type supports (the 000 pet-type gate)
    has_weights boolean not null default false,
    has_medical_records boolean not null default false,
    has_vaccinations boolean not null default false,
    has_microchips boolean not null default false,
    sort_order integer not null default 0,
    created_at timestamptz not null default now()
);
-- 002's pet_type values; by default only cats carry health records (000's reference defaults)
insert into pet_types (slug, name, has_weights, has_medical_records, has_vaccinations, has_microchips, sort_order) values
    ('cat', 'Cat', true, true, true, true, 1),
    ('dog', 'Dog', false, false, false, false, 2),
    ('bird', 'Bird', false, false, false, false, 3),
    ('fish', 'Fish', false, false, false, false, 4),
    ('rabbit', 'Rabbit', false, false, false, false, 5),
    ('other', 'Other', false, false, false, false, 6);

create table pets (
    id bigserial primary key,
    owner_id bigint not null references users (id) on delete cascade,
    pet_type_id integer not null references pet_types (id),
    name text not null check (length(name) between 1 and 255),
    -- 000 `birthday`, 002 `birth_date`
    birthday date,
    -- ISO 3166-1 alpha-2, upper case (000 requires it on create; 002 has none)
    country text check (country ~ '^[A-Z]{2}$'),
    description text check (length(description) <= 5000),
    -- 000 `sex` (male | female | not_specified); 002's `gender` unknown maps to not_specified
    sex text not null default 'not_specified' check (sex in ('male', 'female', 'not_specified')),
    status text not null default 'active' check (status in ('active', 'lost', 'deceased', 'deleted')),
    -- 002's care fields
    breed text check (length(breed) <= 100),
    target_weight_kg numeric(6, 2) check (target_weight_kg between 0.1 and 200),
    height_cm numeric(6, 1) check (height_cm > 0),
    is_spayed boolean,
    microchip_id text check (length(microchip_id) <= 50),
    daily_calorie_target integer check (daily_calorie_target between 50 and 5000),
    notes text check (length(notes) <= 5000),
    photo_path text,
    group_id bigint references groups (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index pets_owner_idx on pets (owner_id) where status <> 'deleted';
create index pets_group_idx on pets (group_id) where status <> 'deleted';

-- per-pet collaborators besides the owner (000): editors change the pet, viewers read it
create table pet_access (
    pet_id bigint not null references pets (id) on delete cascade,
    user_id bigint not null references users (id) on delete cascade,
    role text not null check (role in ('editor', 'viewer')),
    created_at timestamptz not null default now(),
    primary key (pet_id, user_id)
);
create index pet_access_user_idx on pet_access (user_id);

-- A weight here is also the pet's current weight in 002 (latest by record_date, then id).
create table pet_weights (
    id bigserial primary key,
    pet_id bigint not null references pets (id) on delete cascade,
    weight_kg numeric(7, 3) not null check (weight_kg >= 0),
    record_date date not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (pet_id, record_date)
);
create index pet_weights_latest_idx on pet_weights (pet_id, record_date desc, id desc);

create table medical_records (
    id bigserial primary key,
    pet_id bigint not null references pets (id) on delete cascade,
    record_type text not null check (length(record_type) between 1 and 100),
    description text check (length(description) <= 2000),
    record_date date not null,
    vet_name text check (length(vet_name) <= 255),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index medical_records_pet_idx on medical_records (pet_id, record_date desc, id desc);

create table vaccinations (
    id bigserial primary key,
    pet_id bigint not null references pets (id) on delete cascade,
    vaccine_name text not null check (length(vaccine_name) between 1 and 255),
    administered_at date not null,
    due_at date check (due_at >= administered_at),
    notes text check (length(notes) <= 1000),
    completed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (pet_id, vaccine_name, administered_at)
);
create index vaccinations_pet_idx on vaccinations (pet_id, administered_at desc, id desc);
-- health_summary looks at open vaccinations with a due date
create index vaccinations_open_due_idx on vaccinations (pet_id, due_at) where completed_at is null and due_at is not null;

create table microchips (
    id bigserial primary key,
    pet_id bigint not null references pets (id) on delete cascade,
    chip_number text not null unique check (length(chip_number) between 10 and 20),
    issuer text check (length(issuer) <= 255),
    implanted_at date,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index microchips_pet_idx on microchips (pet_id, id desc);
