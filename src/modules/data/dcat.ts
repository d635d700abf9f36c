import N3 from 'n3'
import { LICENSES } from './licenses.ts'
import { resourceUrl } from './presenters.ts'
import type { DatasetRow, ResourceRow } from './repository.ts'

/**
 * DCAT-AP output. Documents are built once as a small graph (nodes with typed values) and then
 * written as JSON-LD (our own compact form with an @context) or as Turtle (n3's writer), so the
 * two serialisations always say the same thing.
 */
export const PREFIXES: Record<string, string> = {
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  hydra: 'http://www.w3.org/ns/hydra/core#',
  adms: 'http://www.w3.org/ns/adms#',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
}

export type Value = { iri: string } | { literal: string; datatype?: string; lang?: string } | Node
export interface Node {
  id: string
  types: string[]
  props: [string, Value][]
}
export interface Graph {
  nodes: Node[]
}

const FREQ: Record<string, string> = {
  realtime: 'CONT', daily: 'DAILY', weekly: 'WEEKLY', monthly: 'MONTHLY', quarterly: 'QUARTERLY', yearly: 'ANNUAL', irregular: 'IRREG',
}
const MEDIA: Record<string, string> = { CSV: 'text/csv', JSON: 'application/json', GEOJSON: 'application/geo+json', XLSX: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }

const lit = (s: string, lang?: string): Value => ({ literal: s, lang })
const dt = (d: Date | string): Value => ({ literal: new Date(d).toISOString(), datatype: 'xsd:dateTime' })
const iri = (s: string): Value => ({ iri: s })

function datasetNode(base: string, d: DatasetRow, resources: ResourceRow[]): Node {
  const id = `${base}/data/dataset/${d.name}`
  const props: [string, Value][] = [
    ['dct:identifier', lit(d.id)],
    ['dct:title', lit(d.title, 'vi')],
    ['dct:description', lit(d.notes, 'vi')],
    ['dct:issued', dt(d.created_at)],
    ['dct:modified', dt(d.modified_at)],
    ['dct:publisher', { id: `${base}/data/organization/${d.owner_org}`, types: ['foaf:Organization'], props: [['foaf:name', lit(d.owner_org)]] }],
    ['dct:accrualPeriodicity', iri(`http://publications.europa.eu/resource/authority/frequency/${FREQ[d.update_frequency]}`)],
    ['dct:accessRights', iri(`http://publications.europa.eu/resource/authority/access-right/${d.access_level === 'open' ? 'PUBLIC' : d.access_level === 'shared' ? 'RESTRICTED' : 'NON_PUBLIC'}`)],
    ['dct:spatial', lit(d.spatial_coverage)],
    ['dcat:landingPage', iri(id)],
    ['adms:version', lit(String(d.version))],
  ]
  for (const t of d.tags) props.push(['dcat:keyword', lit(t, 'vi')])
  if (d.maintainer_email) props.push(['dcat:contactPoint', { id: `${id}#contact`, types: ['vcard:Kind'], props: [['vcard:hasEmail', iri(`mailto:${d.maintainer_email}`)], ['vcard:fn', lit(d.author || d.owner_org)]] }])
  for (const r of resources) {
    const url = resourceUrl(r, base)
    const rp: [string, Value][] = [
      ['dct:identifier', lit(r.id)],
      ['dct:title', lit(r.name, 'vi')],
      ['dct:description', lit(r.description, 'vi')],
      ['dcat:accessURL', iri(url)],
      ['dct:format', lit(r.format)],
      ['dct:modified', dt(r.modified_at)],
    ]
    if (r.file_sha256) rp.push(['dcat:downloadURL', iri(url)])
    if (MEDIA[r.format.toUpperCase()]) rp.push(['dcat:mediaType', iri(`https://www.iana.org/assignments/media-types/${MEDIA[r.format.toUpperCase()]}`)])
    if (r.size !== null) rp.push(['dcat:byteSize', { literal: String(r.size), datatype: 'xsd:nonNegativeInteger' }])
    const lic = LICENSES[d.license_id]
    if (lic?.url) rp.push(['dct:license', iri(lic.url)])
    props.push(['dcat:distribution', { id: `${base}/data/dataset/${d.name}/resource/${r.id}`, types: ['dcat:Distribution'], props: rp }])
  }
  return { id, types: ['dcat:Dataset'], props }
}

export function datasetDoc(base: string, d: DatasetRow, resources: ResourceRow[]): Graph {
  return { nodes: [datasetNode(base, d, resources)] }
}

export function catalogueDoc(base: string, items: { d: DatasetRow; resources: ResourceRow[] }[], page: { page: number; size: number; total: number }): Graph {
  const catalog: Node = {
    id: `${base}/api/data/dcat/catalog`,
    types: ['dcat:Catalog'],
    props: [
      ['dct:title', lit('Cổng dữ liệu mở tỉnh Điện Biên', 'vi')],
      ['dct:title', lit('Điện Biên open data portal', 'en')],
      ['dct:description', lit('Dữ liệu mở của các cơ quan nhà nước tỉnh Điện Biên', 'vi')],
      ['dct:publisher', { id: `${base}/data/organization/11`, types: ['foaf:Organization'], props: [['foaf:name', lit('UBND tỉnh Điện Biên', 'vi')]] }],
      ['foaf:homepage', iri(`${base}/data`)],
      ...items.map(({ d, resources }) => ['dcat:dataset', datasetNode(base, d, resources)] as [string, Value]),
    ],
  }
  const last = Math.max(1, Math.ceil(page.total / page.size))
  const pageUrl = (n: number) => `${base}/api/data/dcat/catalog.jsonld?page=${n}&page_size=${page.size}`
  const view: Node = {
    id: pageUrl(page.page),
    types: ['hydra:PartialCollectionView'],
    props: [
      ['hydra:totalItems', { literal: String(page.total), datatype: 'xsd:integer' }],
      ['hydra:first', iri(pageUrl(1))],
      ['hydra:last', iri(pageUrl(last))],
      ...(page.page < last ? [['hydra:next', iri(pageUrl(page.page + 1))] as [string, Value]] : []),
      ...(page.page > 1 ? [['hydra:previous', iri(pageUrl(page.page - 1))] as [string, Value]] : []),
    ],
  }
  return { nodes: [catalog, view] }
}

function expand(curie: string): string {
  const i = curie.indexOf(':')
  const p = PREFIXES[curie.slice(0, i)]
  return p ? p + curie.slice(i + 1) : curie
}

function jsonValue(v: Value): unknown {
  if ('iri' in v) return { '@id': v.iri }
  if ('literal' in v) return v.lang ? { '@value': v.literal, '@language': v.lang } : v.datatype ? { '@value': v.literal, '@type': v.datatype } : v.literal
  return jsonNode(v)
}

function jsonNode(n: Node): Record<string, unknown> {
  const out: Record<string, unknown> = { '@id': n.id, '@type': n.types.length === 1 ? n.types[0] : n.types }
  for (const [p, v] of n.props) {
    const j = jsonValue(v)
    const prev = out[p]
    out[p] = prev === undefined ? j : Array.isArray(prev) ? [...prev, j] : [prev, j]
  }
  return out
}

export function toJsonLd(g: Graph): Record<string, unknown> {
  return { '@context': PREFIXES, '@graph': g.nodes.map(jsonNode) }
}

export function toTurtle(g: Graph): Promise<string> {
  const { namedNode, literal, quad } = N3.DataFactory
  const writer = new N3.Writer({ prefixes: PREFIXES })
  const emit = (n: Node) => {
    const s = namedNode(n.id)
    for (const t of n.types) writer.addQuad(quad(s, namedNode(PREFIXES.rdf + 'type'), namedNode(expand(t))))
    for (const [p, v] of n.props) {
      const pred = namedNode(expand(p))
      if ('iri' in v) writer.addQuad(quad(s, pred, namedNode(v.iri)))
      else if ('literal' in v) writer.addQuad(quad(s, pred, v.lang ? literal(v.literal, v.lang) : v.datatype ? literal(v.literal, namedNode(expand(v.datatype))) : literal(v.literal)))
      else {
        writer.addQuad(quad(s, pred, namedNode(v.id)))
        emit(v)
      }
    }
  }
  for (const n of g.nodes) emit(n)
  return new Promise((resolve, reject) => writer.end((err, result) => (err ? reject(err) : resolve(result))))
}
