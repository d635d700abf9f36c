import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { XMLBuilder } from 'fast-xml-parser'
import { toAppError } from '../../../platform/http/error-handler.ts'

/**
 * Open311 rendering: every answer exists as JSON and as XML (the format suffix of the URL
 * decides), and errors use the spec's own shape instead of the platform's `{ error: {...} }`:
 * JSON `[{"code":400,"description":"..."}]`, XML `<errors><error><code>…</code><description>…</description></error></errors>`.
 */
export type Format = 'json' | 'xml'

/** One answer in both shapes: the JSON value, and the XML root element with its content. */
export interface Open311Doc {
  json: unknown
  xml: { root: string; content: XmlContent }
}
export type XmlContent = { [name: string]: XmlValue }
export type XmlValue = string | number | boolean | null | undefined | XmlContent | XmlContent[] | string[]

/** A list: JSON is the array itself; XML is `<root><item>…</item>…</root>`. Rows must be flat or use XmlContent for nesting. */
export function listDoc(root: string, item: string, rows: XmlContent[]): Open311Doc {
  return { json: rows, xml: { root, content: { [item]: rows } } }
}

export function errorDoc(code: number, description: string): Open311Doc {
  return listDoc('errors', 'error', [{ code, description }])
}

/** Removes a `.json` / `.xml` suffix from a path parameter (`PA-2026-000001.xml`). */
export function splitSuffix(param: string): { value: string; format: Format | null } {
  const m = /^(.*)\.(json|xml)$/i.exec(param)
  return m ? { value: m[1], format: m[2].toLowerCase() as Format } : { value: param, format: null }
}

/**
 * The format asked for: the URL suffix (`.json`, `.xml`); without one, XML when the Accept
 * header asks for XML and not JSON, otherwise JSON.
 */
export function requestFormat(req: FastifyRequest): Format {
  const path = req.url.split('?')[0].toLowerCase()
  if (path.endsWith('.xml')) return 'xml'
  if (path.endsWith('.json')) return 'json'
  const accept = String(req.headers.accept ?? '').toLowerCase()
  return accept.includes('xml') && !accept.includes('json') ? 'xml' : 'json'
}

// XML 1.0 cannot carry most control characters; citizens' text sometimes contains them.
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

function xmlClean(v: XmlValue): XmlValue {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v.replace(XML_INVALID, '')
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return (v as (string | XmlContent)[]).map((x) => xmlClean(x)) as XmlContent[] | string[]
  const out: XmlContent = {}
  for (const [k, x] of Object.entries(v)) out[k] = xmlClean(x)
  return out
}

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false, processEntities: true })

export function renderXml(doc: Open311Doc): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [doc.xml.root]: xmlClean(doc.xml.content) })}`
}

export function sendDoc(reply: FastifyReply, format: Format, doc: Open311Doc, status = 200): FastifyReply {
  reply.status(status)
  if (format === 'xml') return reply.type('text/xml; charset=utf-8').send(renderXml(doc))
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(doc.json))
}

/**
 * Errors of the Open311 scope in the spec's shape and the asked-for format. A missing or
 * invalid API key is a 403, as in the spec (the platform says 401). 5xx never leak details.
 */
export function installOpen311ErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err)
    const status = e.statusCode === 401 ? 403 : e.statusCode
    if (status >= 500) req.log.error({ err, url: req.url, method: req.method }, 'open311 request failed')
    else req.log.info({ code: e.code, url: req.url }, 'open311 request refused')
    if (e.headers) reply.headers(e.headers)
    if (status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60')
    return sendDoc(reply, requestFormat(req), errorDoc(status, e.messageEn), status)
  })
  app.setNotFoundHandler((req, reply) => {
    sendDoc(reply, requestFormat(req), errorDoc(404, `No Open311 resource ${req.method} ${req.url.split('?')[0]}. Formats: .json, .xml.`), 404)
  })
}
