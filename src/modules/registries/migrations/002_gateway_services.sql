-- Which exchange-gateway service serves each registry to other agencies' systems. The service
-- id is the exchange module's; the gateway tells the provider routes which service a call came
-- through (by the provider credential), and the call is answered only for the registry bound here.
create table registry_gateway_services (
  registry text primary key references registry_schemas (name),
  service_id uuid not null unique,
  gateway_path text not null,
  published_at timestamptz not null,
  published_by text not null
);
