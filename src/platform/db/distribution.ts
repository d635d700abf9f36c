/**
 * How each table of the schema would be placed on a distributed PostgreSQL (Citus), in one list
 * read by two things: the test that checks the migrated schema obeys Citus's rules
 * (distribution.test.ts) and the script that prints the Citus calls (`npm run citus:script`).
 * A table missing here fails that test: a new table must be classified when it is created.
 * See docs/scaling.md, "Distribution key (Citus)".
 *
 * - distributed: hash-distributed on `province_code` (DISTRIBUTION_COLUMN), all colocated, so a
 *   province's report, its photos and history, a dossier and its children, live on one shard
 *   and their joins and foreign keys stay on one worker. Listed parents before children.
 * - reference: small lookup tables copied to every worker (every join with a distributed table
 *   needs them locally). Listed referenced tables first.
 * - local: stays on the coordinator (queues, sessions, per-installation settings, and tables
 *   not distributed yet; `later` says which should be and why they are not yet).
 */

export const DISTRIBUTION_COLUMN = 'province_code'

export interface TableClass {
  table: string
  /** Module that owns the table (its migrations). */
  module: string
  note?: string
}

export interface LocalTable extends TableClass {
  /** A table that should become distributed in a later step. */
  later?: 'distributed'
}

export const DISTRIBUTED: TableClass[] = [
  { table: 'audit_log', module: 'platform', note: 'one hash chain per province (platform/008)' },
  { table: 'reports', module: 'reports' },
  { table: 'report_photos', module: 'reports' },
  { table: 'report_supporters', module: 'reports' },
  { table: 'report_history', module: 'reports', note: 'partitioned by month on at' },
  { table: 'dossiers', module: 'services' },
  { table: 'dossier_files', module: 'services' },
  { table: 'dossier_control_slips', module: 'services', note: 'partitioned by month on at' },
  { table: 'dossier_counters', module: 'services', note: "an agency's receipt numbers of a day" },
  { table: 'dossier_pauses', module: 'services' },
  { table: 'dossier_deadline_changes', module: 'services' },
  { table: 'dossier_letters', module: 'services' },
  { table: 'dossier_results', module: 'services' },
  { table: 'documents', module: 'documents' },
  { table: 'document_register_counters', module: 'documents' },
  { table: 'document_handling', module: 'documents' },
  { table: 'document_links', module: 'documents' },
  { table: 'exchange_message_log', module: 'exchange', note: 'the gateway log of the province node that answered the call; partitioned by month on at (exchange/003, key exchange/004)' },
  ...(['ioc_daily_facts', 'ioc_duration_buckets', 'ioc_daily_coarse', 'ioc_daily_coarse_buckets'].map((table) => ({ table, module: 'ioc', note: 'IOC day-level roll-up, partitioned by month on day (ioc/006, key ioc/007)' }))),
  ...(['ioc_monthly_facts', 'ioc_monthly_duration_buckets', 'ioc_step_facts', 'ioc_monthly_coarse', 'ioc_monthly_coarse_buckets', 'ioc_open_items', 'ioc_report_ratings'].map((table) => ({ table, module: 'ioc', note: 'IOC fact table (key ioc/007); not partitioned (docs/scaling.md "IOC roll-ups")' }))),
]

export const REFERENCE: TableClass[] = [
  { table: 'geo_units', module: 'geo' },
  { table: 'geo_boundary_versions', module: 'geo' },
  { table: 'geo_villages', module: 'geo' },
  { table: 'geo_village_infrastructure', module: 'geo' },
  { table: 'org_units', module: 'identity' },
  { table: 'users', module: 'identity', note: 'officers and citizens; every queue joins it' },
  { table: 'report_categories', module: 'reports' },
  { table: 'procedure_fields', module: 'services' },
  { table: 'procedures', module: 'services' },
  { table: 'procedure_versions', module: 'services' },
  { table: 'fee_policies', module: 'services' },
  { table: 'dossier_bank_accounts', module: 'services' },
  { table: 'calendar_schedule_days', module: 'calendar' },
  { table: 'registry_schemas', module: 'registries' },
  { table: 'dc_topics', module: 'direct-channel' },
]

const local = (module: string, tables: string[], extra: Partial<LocalTable> = {}): LocalTable[] => tables.map((table) => ({ table, module, ...extra }))

export const LOCAL: LocalTable[] = [
  ...local('platform', ['schema_migrations', 'jobs', 'job_schedules', 'idempotency_keys', 'outbox_events', 'platform_keys'], { note: 'queues and short-lived rows' }),
  ...local('platform', ['notification_messages', 'notification_attempts', 'notification_dead_letters', 'notification_attachments', 'push_subscriptions']),
  ...local('identity', ['sessions', 'user_identities', 'api_clients']),
  ...local('reports', ['sms_inbound_messages']),
  ...local('services', ['citizen_store_items'], { note: "a citizen's own files, keyed by user (a reference table), not by a province's case; no foreign key to a dossier" }),
  ...local('services', ['project06_services', 'project06_targets', 'national_sync_changes', 'national_sync_attempts']),
  ...local('exchange', ['exchange_members', 'exchange_systems', 'exchange_services', 'exchange_groups', 'exchange_group_systems', 'exchange_rights', 'exchange_suspensions', 'exchange_health_checks']),
  ...local('registries', ['registry_records', 'registry_record_versions', 'registry_gateway_services']),
  ...local('compliance', ['compliance_rules', 'compliance_systems', 'compliance_units', 'compliance_endpoints', 'compliance_findings', 'compliance_exemptions']),
  ...local('data', ['data_datasets', 'data_dataset_history', 'data_resources', 'data_reuses', 'data_shared_databases', 'data_publish_plan', 'data_platform_stats']),
  ...local('community', ['community_teams', 'community_members', 'community_consents', 'community_campaigns', 'community_campaign_targets', 'community_activities']),
  ...local('direct-channel', ['dc_questions', 'dc_question_counters', 'dc_notices', 'dc_guides']),
  ...local('ioc', ['ioc_processed_events', 'ioc_feed_updates', 'ioc_dx_indicators', 'ioc_dx_values', 'ioc_rules', 'ioc_rule_firings', 'ioc_tasks', 'ioc_unit_flags', 'ioc_analyses', 'ioc_analysis_deliveries', 'ioc_analysis_subscriptions']),
]

export type Placement = 'distributed' | 'reference' | 'local'

/** Placement of every classified table. */
export function placements(): Map<string, Placement> {
  const out = new Map<string, Placement>()
  for (const [list, p] of [[DISTRIBUTED, 'distributed'], [REFERENCE, 'reference'], [LOCAL, 'local']] as const) {
    for (const t of list) {
      if (out.has(t.table)) throw new Error(`${t.table} is classified twice in distribution.ts`)
      out.set(t.table, p)
    }
  }
  return out
}

/**
 * The Citus calls, in order: reference tables (referenced ones first), then the distributed
 * tables colocated with the first (parents first, so each foreign key finds its parent
 * distributed). Local tables stay on the coordinator; Citus adds those with a foreign key to a
 * reference table to its metadata by itself (citus.enable_local_reference_table_foreign_keys).
 */
export function citusScript(): string {
  placements()
  const [first, ...rest] = DISTRIBUTED
  const lines = [
    '-- Hoa Ban on Citus: run on the coordinator after the migrations (npm start or the migrate step),',
    '-- in a database where the citus extension is created. Generated by `npm run citus:script` from',
    '-- src/platform/db/distribution.ts; docs/scaling.md "Distribution key (Citus)".',
    '\\set ON_ERROR_STOP on',
    '-- audit_log keeps its append-only trigger on the shards.',
    'set citus.enable_unsafe_triggers = on;',
    'begin;',
    '-- Reference tables (copied to every worker).',
    ...REFERENCE.map((t) => `select create_reference_table('${t.table}');`),
    `-- Distributed on ${DISTRIBUTION_COLUMN}, all in one colocation group.`,
    `select create_distributed_table('${first.table}', '${DISTRIBUTION_COLUMN}');`,
    ...rest.map((t) => `select create_distributed_table('${t.table}', '${DISTRIBUTION_COLUMN}', colocate_with => '${first.table}');`),
    'commit;',
    '-- Stay on the coordinator: ' + LOCAL.map((t) => t.table).join(', ') + '.',
    '-- Every node must connect with its province: the platform sets hoaban.province_code on each',
    "-- connection (PROVINCE_CODE); a psql session does `set hoaban.province_code = '11'` first.",
    '',
  ]
  return lines.join('\n')
}
