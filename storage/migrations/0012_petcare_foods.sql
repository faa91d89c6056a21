-- 002 foods (issue 12, build items 3 and 6): each group's shared food database, and the photo
-- columns of foods and pets.
--
-- Column names follow 002's document (`unit_weight_g`, `calories_per_100g`, `*_percentage`);
-- the reference's names (`unit_weight`, `calories`, `protein`, ...) are a rendering matter, both
-- are accepted and emitted by gateway/petcare/food_models.py.
create table foods (
    id bigserial primary key,
    group_id bigint not null references groups (id) on delete cascade,
    created_by bigint references users (id) on delete set null,
    brand text not null check (length(brand) between 1 and 100),
    product_name text not null check (length(product_name) between 1 and 100),
    food_type text not null check (food_type in ('dry_food', 'wet_food')),
    target_pet text not null check (target_pet in ('dog', 'cat', 'bird', 'fish', 'rabbit', 'other')),
    -- grams in one unit (a can, a cup, a kibble scoop); meals in units multiply by it
    unit_weight_g numeric not null check (unit_weight_g > 0 and unit_weight_g <= 5000),
    calories_per_100g numeric not null check (calories_per_100g between 0 and 1000),
    protein_percentage numeric not null default 0 check (protein_percentage between 0 and 100),
    fat_percentage numeric not null default 0 check (fat_percentage between 0 and 100),
    moisture_percentage numeric not null default 0 check (moisture_percentage between 0 and 100),
    carbohydrate_percentage numeric not null default 0 check (carbohydrate_percentage between 0 and 100),
    -- derived, never written: calories x unit weight / 100 (NOTES 002), kept beside its inputs so
    -- every reader (meals included) gets the same figure
    calories_per_unit numeric generated always as (calories_per_100g * unit_weight_g / 100) stored,
    -- media store key of the re-encoded photo (null: none), its type and when it last changed
    photo_path text,
    photo_content_type text,
    photo_updated_at timestamptz,
    -- soft delete: a deleted food answers 404 everywhere, but meals logged from it keep their row
    deleted_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- The keyword search (GET /foods/info). pgserver (the embedded PostgreSQL) ships no pg_trgm,
    -- so full-text search over the 'simple' configuration (no stemming, no stop words: brand
    -- names are not English). Brand is weight A, product name B: the document ranks brand matches
    -- first. Prefix queries (`roya:*`) give search-as-you-type.
    search_vector tsvector generated always as (
        setweight(to_tsvector('simple', brand), 'A') || setweight(to_tsvector('simple', product_name), 'B')
    ) stored
);
-- a group's list, sorted by brand and product name as the reference sorts it
create index foods_group_idx on foods (group_id, lower(brand), lower(product_name)) where deleted_at is null;
create index foods_search_idx on foods using gin (search_vector) where deleted_at is null;

-- the pet photo's type and when it changed (pets.photo_path, from 0005, is its media store key)
alter table pets add column photo_content_type text;
alter table pets add column photo_updated_at timestamptz;
