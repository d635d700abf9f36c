import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { Type } from 'typebox'
import type { Principal } from '../../platform/auth/principal.ts'
import { AppError } from '../../platform/http/errors.ts'
import { toAppError } from '../../platform/http/error-handler.ts'
import type { AppContext } from '../../platform/module.ts'
import { getOrgUnit, listOrgUnits, principalForApiKey, type OrgUnit } from '../identity/index.ts'
import { canReadDataset } from './access.ts'
import type { DataConfig } from './config.ts'
import { csvLine, DatastoreQueryError, runSearchSql, searchDatastore, SqlRefused, tsQueryOf } from './datastore.ts'
import { orgDict, packageDict, resourceDict } from './presenters.ts'
import { datasetCountsByOrg, getDataset, getResource, listDatasetNames, listResources, searchDatasets, SEARCH_FIELDS, tagCounts, type DatasetRow } from './repository.ts'

/** CKAN's error types and their HTTP statuses. */
export class CkanError extends Error {
  constructor(public readonly status: number, public readonly type: string, message: string, public readonly fields?: Record<string, string[]>) {
    super(message)
  }
}
const validation = (field: string, msg: string) => new CkanError(409, 'Validation Error', `${field}: ${msg}`, { [field]: [msg] })
const notFoundError = (what: string) => new CkanError(404, 'Not Found Error', `Not found: ${what}`)
const authError = (msg = 'Access denied') => new CkanError(403, 'Authorization Error', msg)

type Params = Record<string, unknown>

export const CKAN_ACTIONS = ['package_list', 'package_search', 'package_show', 'organization_list', 'organization_show', 'tag_list', 'resource_show', 'datastore_search', 'datastore_search_sql', 'status_show', 'help_show'] as const

/** GET parameters arrive as strings; POST JSON as typed values. These read both. */
function str(p: Params, k: string, max = 2000): string | undefined {
  const v = p[k]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string' && typeof v !== 'number') throw validation(k, 'must be a string')
  const s = String(v)
  if (s.length > max) throw validation(k, `longer than ${max} characters`)
  return s
}
function int(p: Params, k: string, d: number, min: number, max: number): number {
  const v = p[k]
  if (v === undefined || v === null || v === '') return d
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(String(v)) ? Number(v) : NaN
  if (!Number.isInteger(n)) throw validation(k, 'Invalid integer')
  if (n < min) throw validation(k, `Must be at least ${min}`)
  if (n > max) throw validation(k, `Must be at most ${max}`)
  return n
}
function bool(p: Params, k: string, d: boolean): boolean {
  const v = p[k]
  if (v === undefined || v === null || v === '') return d
  if (typeof v === 'boolean') return v
  if (/^(true|1|yes|on)$/i.test(String(v))) return true
  if (/^(false|0|no|off)$/i.test(String(v))) return false
  throw validation(k, 'must be true or false')
}
/** A JSON value given as JSON (POST) or as a JSON string (GET). */
function json(p: Params, k: string): unknown {
  const v = p[k]
  if (typeof v !== 'string') return v
  const t = v.trim()
  if (!t) return undefined
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t)
    } catch {
      throw validation(k, 'not valid JSON')
    }
  }
  return v
}
function list(p: Params, k: string): string[] | undefined {
  const v = json(p, k)
  if (v === undefined || v === null) return undefined
  if (Array.isArray(v)) {
    if (v.length > 100 || v.some((x) => typeof x !== 'string')) throw validation(k, 'must be a list of at most 100 strings')
    return v as string[]
  }
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean).slice(0, 100)
  throw validation(k, 'must be a list')
}

/** Parses CKAN/Solr fq ("organization:x tags:"a b" +res_format:CSV") into whitelisted field filters. */
export function parseFq(fq: string | undefined, into: { field: string; value: string }[]): string {
  if (!fq) return ''
  const rest: string[] = []
  const re = /([+]?)([a-z_]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))|(\S+)/gi
  for (let m = re.exec(fq); m; m = re.exec(fq)) {
    if (m[5] !== undefined) {
      rest.push(m[5])
      continue
    }
    const field = m[2]
    const value = (m[3] ?? m[4]).replace(/\\(.)/g, '$1')
    if (field === 'text') {
      rest.push(value)
      continue
    }
    if (!SEARCH_FIELDS[field]) throw new CkanError(409, 'Search Query Error', `Search Query Error: unknown field "${field}"; use one of ${Object.keys(SEARCH_FIELDS).join(', ')}`)
    if (value !== '*') into.push({ field, value })
  }
  return rest.join(' ')
}

const SORTS: Record<string, string> = {
  score: 'score', name: 'd.name', title_string: 'd.title', title: 'd.title', metadata_modified: 'd.modified_at', metadata_created: 'd.created_at', num_resources: 'num_resources',
}

function packageSort(s: string | undefined): ReturnType<typeof sql.raw> {
  const text = s?.trim() || 'score desc, metadata_modified desc'
  const parts = text.split(',').map((x) => x.trim()).filter(Boolean)
  if (parts.length > 4) throw validation('sort', 'at most 4 sort fields')
  const out = parts.map((part) => {
    const [f, dir = 'asc', extra] = part.split(/\s+/)
    if (extra !== undefined || !SORTS[f] || !/^(asc|desc)$/i.test(dir)) throw new CkanError(409, 'Search Query Error', `Search Query Error: cannot sort by "${part}"; fields: ${Object.keys(SORTS).join(', ')}`)
    return `${SORTS[f]} ${dir.toLowerCase()}`
  })
  return sql.raw([...out, 'd.name asc'].join(', '))
}

export async function ckanRoutes(app: FastifyInstance, ctx: AppContext, cfg: DataConfig): Promise<void> {
  for (const prefix of ['/api/3/action', '/api/action']) await app.register(async (scope) => ckanPlugin(scope, ctx, cfg, prefix), { prefix })
}

function helpUrl(cfg: DataConfig, action: string) {
  return `${cfg.baseUrl}/api/3/action/help_show?name=${encodeURIComponent(action)}`
}

async function ckanPlugin(fastify: FastifyInstance, ctx: AppContext, cfg: DataConfig, prefix: string): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // The CKAN envelope for every error in this scope.
  app.setErrorHandler((err, req, reply) => {
    const action = (req.params as { action?: string } | undefined)?.action ?? ''
    let e: CkanError
    if (err instanceof CkanError) e = err
    else {
      const a = toAppError(err)
      if (a.statusCode >= 500) req.log.error({ err, url: req.url }, 'ckan action failed')
      e = a.statusCode === 401 || a.statusCode === 403 ? new CkanError(403, 'Authorization Error', a.messageEn)
        : a.statusCode === 404 ? new CkanError(404, 'Not Found Error', a.messageEn)
        : a.code === 'MALFORMED_BODY' || a.code === 'UNSUPPORTED_MEDIA_TYPE' ? new CkanError(a.statusCode, 'Bad Request', `Bad request - JSON Error: ${a.messageEn}`)
        : a.statusCode === 400 ? new CkanError(409, 'Validation Error', a.messageEn)
        : new CkanError(a.statusCode, a.statusCode >= 500 ? 'Internal Server Error' : 'Error', a.messageEn)
      if (a.headers) reply.headers(a.headers)
    }
    return reply.status(e.status).type('application/json; charset=utf-8').send({
      help: helpUrl(cfg, action),
      success: false,
      error: { __type: e.type, message: e.message, ...(e.fields ?? {}) },
    })
  })
  // ckanapi sends its API key raw in Authorization (or X-CKAN-API-Key): read it here.
  app.addHook('onRequest', async (req) => {
    if (req.principal) return
    const raw = req.headers['x-ckan-api-key'] ?? req.headers.authorization
    const key = Array.isArray(raw) ? raw[0] : raw
    if (key && !/^(Bearer|Basic) /i.test(key)) {
      try {
        req.principal = await principalForApiKey(ctx.db, key.trim())
      } catch {
        throw authError('Invalid API key')
      }
    }
  })

  const Params = Type.Object({ action: Type.String({ pattern: '^[a-z_]{1,64}$', description: `One of ${CKAN_ACTIONS.join(', ')}` }) })
  const Envelope = Type.Object({ help: Type.String(), success: Type.Boolean(), result: Type.Optional(Type.Unknown()), error: Type.Optional(Type.Unknown()) })
  const description = 'CKAN Action API v3: parameters as query string (GET; JSON values as JSON text) or as a JSON body (POST, as ckanapi sends). '
    + 'Answers `{help, success, result}` or `{help, success: false, error: {__type, message}}` with CKAN\'s error types. An API key may be sent raw in Authorization or X-CKAN-API-Key.'

  // Every CKAN action only reads: they run on the read replica when there is one.
  const readCtx: AppContext = { ...ctx, db: ctx.readDb }
  const run = async (req: FastifyRequest, action: string, params: Params) => {
    const result = await runCkanAction(readCtx, cfg, req.principal, action, params)
    return { help: helpUrl(cfg, action), success: true, result }
  }
  app.get('/:action', {
    schema: {
      tags: ['data', 'ckan'], summary: `CKAN action (GET ${prefix}/{action})`, description, params: Params,
      querystring: Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 20_000 })),
      response: { 200: Envelope, 400: Envelope, 403: Envelope, 404: Envelope, 409: Envelope },
    },
  }, async (req) => run(req, req.params.action, req.query as Params))
  app.post('/:action', {
    schema: {
      tags: ['data', 'ckan'], summary: `CKAN action (POST ${prefix}/{action}, JSON body)`, description, params: Params,
      body: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown())),
      response: { 200: Envelope, 400: Envelope, 403: Envelope, 404: Envelope, 409: Envelope },
    },
  }, async (req) => run(req, req.params.action, { ...(req.query as Params), ...((req.body as Params | undefined) ?? {}) }))
}

async function orgMap(ctx: AppContext): Promise<Map<string, OrgUnit>> {
  return new Map((await listOrgUnits(ctx.db)).map((u) => [u.code, u]))
}

async function visibleDataset(ctx: AppContext, p: Principal | null, id: string): Promise<DatasetRow> {
  const d = await getDataset(ctx.db, id)
  if (!d) throw notFoundError('dataset')
  if (!canReadDataset(p, d)) throw authError(`User not authorized to read package ${id}`)
  return d
}

export async function runCkanAction(ctx: AppContext, cfg: DataConfig, p: Principal | null, action: string, params: Params): Promise<unknown> {
  const now = ctx.clock()
  switch (action) {
    case 'status_show':
      return {
        site_title: 'Cổng dữ liệu mở tỉnh Điện Biên (Hoa Ban)', site_description: 'Open data of Điện Biên province', site_url: cfg.baseUrl,
        ckan_version: '2.10.4', error_emails_to: null, locale_default: 'vi', extensions: ['datastore', 'dcat', 'hoaban'],
      }
    case 'help_show': {
      const name = str(params, 'name', 64)
      if (!name || !(CKAN_ACTIONS as readonly string[]).includes(name)) throw notFoundError('action')
      return `${name}: see ${cfg.baseUrl}/docs (CKAN Action API v3 compatible)`
    }
    case 'package_list': {
      const limit = int(params, 'limit', 1000, 1, 1000)
      const offset = int(params, 'offset', 0, 0, 10_000_000)
      return listDatasetNames(ctx.db, p, limit, offset)
    }
    case 'package_search': {
      const filters: { field: string; value: string }[] = []
      const qRest = parseFq(str(params, 'q', 1000), filters)
      const fqRest = parseFq(str(params, 'fq', 2000), filters)
      const text = [qRest, fqRest].join(' ').replace(/\*:\*|\*/g, ' ').trim()
      const rows = int(params, 'rows', 10, 0, 1000)
      const start = int(params, 'start', 0, 0, 1_000_000)
      const facetFields = list(params, 'facet.field') ?? []
      for (const f of facetFields) if (!SEARCH_FIELDS[f]) throw validation('facet.field', `cannot facet on "${f}"`)
      const facet = bool(params, 'facet', true)
      const r = await searchDatasets(ctx.db, p, {
        tsquery: tsQueryOf(text), filters, sort: packageSort(str(params, 'sort', 200)), limit: rows, offset: start,
        facets: facet ? facetFields : [], facetLimit: int(params, 'facet.limit', 50, -1, 1000) === -1 ? 1000 : int(params, 'facet.limit', 50, -1, 1000),
        facetMinCount: int(params, 'facet.mincount', 1, 0, 1_000_000),
      })
      const [resources, orgs] = await Promise.all([listResources(ctx.db, r.rows.map((d) => d.id)), orgMap(ctx)])
      const facets: Record<string, Record<string, number>> = {}
      const searchFacets: Record<string, { title: string; items: { name: string; display_name: string; count: number }[] }> = {}
      for (const [field, items] of Object.entries(r.facets)) {
        facets[field] = Object.fromEntries(items.map((i) => [i.v, i.n]))
        searchFacets[field] = {
          title: field,
          items: items.map((i) => ({ name: i.v, display_name: field === 'organization' || field === 'owner_org' ? (orgs.get(i.v)?.name_vi ?? i.v) : i.v, count: i.n })),
        }
      }
      return {
        count: r.count,
        sort: str(params, 'sort', 200) ?? 'score desc, metadata_modified desc',
        results: r.rows.map((d) => packageDict(d, resources.filter((x) => x.dataset_id === d.id), orgs.get(d.owner_org), cfg.baseUrl, now)),
        facets,
        search_facets: searchFacets,
      }
    }
    case 'package_show': {
      const id = str(params, 'id', 200) ?? str(params, 'name_or_id', 200)
      if (!id) throw validation('id', 'Missing value')
      const d = await visibleDataset(ctx, p, id)
      const [resources, org] = await Promise.all([listResources(ctx.db, [d.id]), getOrgUnit(ctx.db, d.owner_org)])
      return packageDict(d, resources, org, cfg.baseUrl, now)
    }
    case 'organization_list': {
      const allFields = bool(params, 'all_fields', false)
      const limit = int(params, 'limit', 1000, 1, 1000)
      const offset = int(params, 'offset', 0, 0, 1_000_000)
      const only = list(params, 'organizations')
      const sort = str(params, 'sort', 50) ?? 'name asc'
      if (!/^(name|title|package_count)( (asc|desc))?$/.test(sort)) throw validation('sort', 'one of name, title, package_count [asc|desc]')
      const [units, counts] = await Promise.all([listOrgUnits(ctx.db), datasetCountsByOrg(ctx.db, p)])
      let orgs = units.filter((u) => u.kind !== 'commune' || counts.has(u.code)).filter((u) => !only || only.includes(u.code))
      const [key, dir = 'asc'] = sort.split(' ')
      const val = (u: OrgUnit) => (key === 'package_count' ? counts.get(u.code) ?? 0 : key === 'title' ? u.name_vi : u.code)
      orgs = orgs.sort((a, b) => {
        const x = val(a), y = val(b)
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'vi')
        return dir === 'desc' ? -c : c
      }).slice(offset, offset + limit)
      return allFields ? orgs.map((u) => orgDict(u, u.code, counts.get(u.code) ?? 0)) : orgs.map((u) => u.code)
    }
    case 'organization_show': {
      const id = str(params, 'id', 100)
      if (!id) throw validation('id', 'Missing value')
      const u = await getOrgUnit(ctx.db, id)
      if (!u) throw notFoundError('organization')
      const counts = await datasetCountsByOrg(ctx.db, p)
      const dict: Record<string, unknown> = orgDict(u, u.code, counts.get(u.code) ?? 0)
      if (bool(params, 'include_datasets', false)) {
        const r = await searchDatasets(ctx.db, p, { filters: [{ field: 'organization', value: u.code }], sort: sql.raw('d.name'), limit: 1000, offset: 0, facets: [], facetLimit: 0, facetMinCount: 1 })
        const resources = await listResources(ctx.db, r.rows.map((d) => d.id))
        dict.packages = r.rows.map((d) => packageDict(d, resources.filter((x) => x.dataset_id === d.id), u, cfg.baseUrl, now))
      }
      return dict
    }
    case 'tag_list': {
      const tags = await tagCounts(ctx.db, p, str(params, 'query', 100), int(params, 'limit', 1000, 1, 5000))
      return bool(params, 'all_fields', false) ? tags.map((t) => ({ id: t.tag, name: t.tag, display_name: t.tag, vocabulary_id: null, count: t.n })) : tags.map((t) => t.tag)
    }
    case 'resource_show': {
      const id = str(params, 'id', 100)
      if (!id) throw validation('id', 'Missing value')
      const r = await getResource(ctx.db, id)
      if (!r) throw notFoundError('resource')
      await visibleDataset(ctx, p, r.dataset_id)
      return resourceDict(r, cfg.baseUrl)
    }
    case 'datastore_search':
      return datastoreSearchAction(ctx, cfg, p, params)
    case 'datastore_search_sql': {
      if (!cfg.sqlEnabled) throw authError('datastore_search_sql is disabled on this portal (DATASTORE_SQL_ENABLED)')
      const text = str(params, 'sql', 20_000)
      if (!text) throw validation('sql', 'Missing value')
      try {
        const r = await runSearchSql(ctx.db, text, { timeoutMs: cfg.sqlTimeoutMs, maxRows: 32_000 })
        return { sql: text, fields: r.fields, records: r.records }
      } catch (err) {
        if (err instanceof SqlRefused) throw validation('query', err.message)
        const code = (err as { code?: string }).code
        if (code === '42501') throw authError(`Not authorized to read: ${(err as Error).message}`)
        if (code === '57014') throw validation('query', 'Query canceled: statement timeout')
        if (code && /^(42|22|2F|25|0A)/.test(code)) throw validation('query', (err as Error).message)
        throw err
      }
    }
    default:
      throw new CkanError(400, 'Bad Request', `Bad request - Action name not known: ${action}`)
  }
}

async function datastoreSearchAction(ctx: AppContext, cfg: DataConfig, p: Principal | null, params: Params) {
  const id = str(params, 'resource_id', 100) ?? str(params, 'id', 100)
  if (!id) throw validation('resource_id', 'Missing value')
  const filters = json(params, 'filters')
  if (filters !== undefined && (typeof filters !== 'object' || filters === null || Array.isArray(filters))) throw validation('filters', 'must be a JSON object')
  const q = json(params, 'q')
  if (q !== undefined && typeof q !== 'string' && (typeof q !== 'object' || q === null || Array.isArray(q))) throw validation('q', 'must be a string or an object')
  const format = str(params, 'records_format', 20) ?? 'objects'
  if (!['objects', 'lists', 'csv', 'tsv'].includes(format)) throw validation('records_format', 'one of objects, lists, csv, tsv')
  const includeTotal = bool(params, 'include_total', true)
  const limit = int(params, 'limit', 100, 0, 32_000)
  const offset = int(params, 'offset', 0, 0, 100_000_000)
  const r = await getResource(ctx.db, id)
  if (!r) throw notFoundError(`Resource "${id}" was not found.`)
  await visibleDataset(ctx, p, r.dataset_id)
  if (!r.datastore_active || !r.datastore_table) throw notFoundError(`Resource "${id}" has no DataStore table.`)

  const fields = list(params, 'fields')
  const sort = str(params, 'sort', 500)
  let result
  try {
    result = await searchDatastore(ctx.db, r.datastore_table, r.fields, Number(r.row_count), {
      filters: filters as Record<string, unknown> | undefined, q: q as string | Record<string, string> | undefined, fields, sort, limit, offset, includeTotal, distinct: bool(params, 'distinct', false),
    })
  } catch (err) {
    if (err instanceof DatastoreQueryError) throw validation(err.field, err.message)
    throw err
  }
  const records = format === 'objects' ? result.rows.map((row) => Object.fromEntries(result.fields.map((f, i) => [f.id, row[i]])))
    : format === 'lists' ? result.rows
    : result.rows.map((row) => csvLine(row, format === 'tsv' ? '\t' : ',')).join('')
  const base = `/api/3/action/datastore_search?resource_id=${r.id}`
  return {
    resource_id: r.id,
    fields: result.fields,
    records,
    records_format: format,
    limit,
    offset,
    ...(sort ? { sort } : {}),
    ...(filters ? { filters } : {}),
    ...(q ? { q } : {}),
    ...(result.total === undefined ? {} : { total: result.total, total_was_estimated: false }),
    _links: { start: base, next: `${base}&offset=${offset + limit}` },
  }
}

export { AppError }
