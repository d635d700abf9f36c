import { sql } from 'kysely'
import { Pool } from 'undici'
import type { Db } from '../../platform/db/database.ts'
import { listServices, type ServiceRow } from './registry.ts'

export interface ServiceStats {
  provider: string
  service: string
  calls: number
  failures: number
  p50_ms: number | null
  p95_ms: number | null
  p99_ms: number | null
  last_success_at: string | null
  last_failure_at: string | null
  health: { checked_at: string; ok: boolean; status: number | null; duration_ms: number; error: string | null } | null
}

/**
 * Per service over a window: calls, failures (status ≥ 500 or refused by the gateway after
 * authentication, i.e. timeouts and unreachable providers), latency percentiles, last success and
 * failure, and the latest health check.
 */
export async function serviceStats(db: Db, opts: { since: Date; unitCode?: string }): Promise<ServiceStats[]> {
  const services = await listServices(db, opts.unitCode)
  if (services.length === 0) return []
  const { rows } = await sql<{ provider: string; service: string; calls: number; failures: number; p50: number | null; p95: number | null; p99: number | null; last_ok: Date | null; last_fail: Date | null }>`
    select provider, service, count(*)::int as calls,
      count(*) filter (where status >= 500)::int as failures,
      percentile_cont(0.5) within group (order by duration_ms) as p50,
      percentile_cont(0.95) within group (order by duration_ms) as p95,
      percentile_cont(0.99) within group (order by duration_ms) as p99,
      max(at) filter (where status < 400) as last_ok,
      max(at) filter (where status >= 500) as last_fail
    from exchange_message_log where at >= ${opts.since.toISOString()}::timestamptz and status <> 401
    group by provider, service`.execute(db)
  const health = await latestHealth(db)
  const byKey = new Map(rows.map((r) => [`${r.provider}/${r.service}`, r]))
  const round = (x: number | null) => (x === null ? null : Math.round(Number(x) * 1000) / 1000)
  return services.map((s) => {
    const r = byKey.get(`${s.member_code}/${s.code}`)
    const h = health.get(s.id)
    return {
      provider: s.member_code,
      service: s.code,
      calls: r?.calls ?? 0,
      failures: r?.failures ?? 0,
      p50_ms: round(r?.p50 ?? null),
      p95_ms: round(r?.p95 ?? null),
      p99_ms: round(r?.p99 ?? null),
      last_success_at: r?.last_ok ? new Date(r.last_ok).toISOString() : null,
      last_failure_at: r?.last_fail ? new Date(r.last_fail).toISOString() : null,
      health: h ? { checked_at: new Date(h.checked_at).toISOString(), ok: h.ok, status: h.status, duration_ms: h.duration_ms, error: h.error } : null,
    }
  })
}

async function latestHealth(db: Db) {
  const { rows } = await sql<{ service_id: string; checked_at: Date; ok: boolean; status: number | null; duration_ms: number; error: string | null }>`
    select distinct on (service_id) service_id::text as service_id, checked_at, ok, status, duration_ms, error
    from exchange_health_checks order by service_id, checked_at desc`.execute(db)
  return new Map(rows.map((r) => [r.service_id, r]))
}

/** Calls each service's health path (or its base URL) once and records the outcome. */
export async function checkProviderHealth(db: Db, now: Date, timeoutMs = 5000): Promise<{ service: string; ok: boolean }[]> {
  const services = await listServices(db)
  const out: { service: string; ok: boolean }[] = []
  await Promise.all(services.map(async (s: ServiceRow) => {
    const base = new URL(s.base_url)
    const path = s.health_path ? `${base.pathname === '/' ? '' : base.pathname}${s.health_path}` : base.pathname
    const pool = new Pool(base.origin, { connections: 1 })
    const t0 = performance.now()
    let ok = false
    let status: number | null = null
    let error: string | null = null
    try {
      const res = await pool.request({ path, method: 'GET', signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
      await res.body.dump()
      status = res.statusCode
      ok = res.statusCode < 500
    } catch (e) {
      error = String((e as { code?: string }).code ?? (e as Error).name ?? e).slice(0, 200)
    } finally {
      await pool.close().catch(() => {})
    }
    const duration = Math.round((performance.now() - t0) * 1000) / 1000
    await sql`insert into exchange_health_checks (service_id, checked_at, ok, status, duration_ms, error)
      values (${s.id}::uuid, ${now.toISOString()}::timestamptz, ${ok}, ${status}, ${duration}, ${error}) on conflict do nothing`.execute(db)
    out.push({ service: `${s.member_code}/${s.code}`, ok })
  }))
  return out
}
