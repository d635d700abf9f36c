-- Official documents (văn bản): incoming and outgoing registers per agency and year.

-- One counter row per register (agency, direction, year). Registering a document does
-- `insert ... on conflict do update set last = last + 1 returning last` in its own transaction:
-- the row lock serialises registrations of one register and a rollback gives the number back,
-- so numbers run 1, 2, 3 … without gaps or duplicates (Decree 30/2020).
create table document_register_counters (
  agency_code text not null references org_units (code),
  direction text not null check (direction in ('incoming', 'outgoing')),
  year int not null check (year between 2000 and 2200),
  last int not null check (last > 0),
  primary key (agency_code, direction, year)
);

create table documents (
  id uuid primary key default gen_random_uuid(),
  agency_code text not null references org_units (code),
  direction text not null check (direction in ('incoming', 'outgoing')),
  register_year int not null,
  -- Number in the register (số đi / số đến).
  number int not null check (number > 0),
  -- Outgoing: our symbol (12/QĐ-UBND). Incoming: the sender's symbol as printed (may be empty).
  symbol text not null,
  doc_type text not null,
  issuer text not null,
  signer text,
  issued_at timestamptz not null,
  registered_at timestamptz not null,
  summary text not null check (length(summary) between 1 and 2000),
  urgency text not null default 'normal' check (urgency in ('normal', 'urgent', 'very_urgent', 'flash')),
  confidentiality text not null default 'normal' check (confidentiality in ('normal', 'confidential', 'secret', 'top_secret')),
  recipients text[] not null default '{}',
  -- The file exactly as received or signed: never rewritten; content-addressed by sha256.
  file_name text,
  file_mime text,
  file_size bigint,
  file_sha256 text check (file_sha256 is null or file_sha256 ~ '^[0-9a-f]{64}$'),
  extracted_text text not null default '',
  -- Summary, symbol, issuer and extracted text without diacritics, lower-case (normalised in the
  -- application; PGlite has no unaccent/pg_trgm). Searched with LIKE: a sequential scan, fine
  -- for a province's volume for now; a trigram or full-text index is the next step on PostgreSQL.
  search_text text not null default '',
  status text not null default 'registered' check (status in ('registered', 'assigned', 'directed', 'in_progress', 'done', 'issued')),
  -- Incoming handling: the leader it was assigned to, then who handles it and by when.
  leader_user_id uuid references users (id),
  handler_unit_code text references org_units (code),
  handler_user_id uuid references users (id),
  handling_deadline date,
  done_at timestamptz,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (agency_code, direction, register_year, number)
);

create index documents_agency_created_idx on documents (agency_code, created_at desc, id desc);
create index documents_handler_unit_idx on documents (handler_unit_code) where handler_unit_code is not null;
create index documents_created_idx on documents (created_at desc, id desc);

-- Handling history (xử lý văn bản): registered, assigned, directed, progress, done, linked.
create table document_handling (
  id bigserial primary key,
  document_id uuid not null references documents (id),
  at timestamptz not null,
  actor text not null,
  action text not null,
  note text,
  data jsonb not null default '{}'
);
create index document_handling_doc_idx on document_handling (document_id, id);

-- Links to dossiers, field reports and other documents (by their public code or id).
create table document_links (
  document_id uuid not null references documents (id),
  kind text not null check (kind in ('dossier', 'report', 'document')),
  ref text not null check (length(ref) between 1 and 100),
  created_at timestamptz not null default now(),
  created_by text not null,
  primary key (document_id, kind, ref)
);
create index document_links_ref_idx on document_links (kind, ref);
