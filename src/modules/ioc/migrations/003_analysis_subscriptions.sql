-- Subscribers of the monthly analysis: each staff member or IOC viewer who asked for it, by
-- e-mail (with the PDF) and/or in the in-app inbox. Each gets the view their role allows (the
-- whole province, or the province figures plus their own unit), at delivery time.
create table ioc_analysis_subscriptions (
  user_id uuid primary key,
  email text,
  channels text[] not null check (channels <@ array['email', 'in_app']::text[] and cardinality(channels) > 0),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check (email is not null or not ('email' = any (channels)))
);

-- One delivery per analysis and subscriber, whatever is retried.
create table ioc_analysis_deliveries (
  analysis_id uuid not null references ioc_analyses (id),
  user_id uuid not null,
  channels text[] not null,
  scope text not null,
  delivered_at timestamptz not null,
  primary key (analysis_id, user_id)
);
