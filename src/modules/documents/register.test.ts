import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { verifyAuditChain } from '../../platform/audit/audit-log.ts'
import type { Platform } from '../../platform/runtime.ts'
import { startTestPlatform } from '../../platform/testing/test-platform.ts'
import { calendarModule } from '../calendar/index.ts'
import { geoModule } from '../geo/index.ts'
import { identityModule } from '../identity/index.ts'
import { documentsLinkedTo, documentsModule, issueOutgoingDocument, linkDocument } from './index.ts'
import { agencyAbbreviation, formatSymbol, normalizeSearchText, vietnamYear } from './text.ts'

let platform: Platform
before(async () => {
  platform = await startTestPlatform({ modules: [geoModule, identityModule, calendarModule, documentsModule] })
})
after(async () => {
  await platform?.close()
})

const issue = (agencyCode: string, extra: Partial<Parameters<typeof issueOutgoingDocument>[1]> = {}) =>
  platform.ctx.db.transaction().execute((tx) =>
    issueOutgoingDocument(tx, {
      agencyCode, docType: 'QĐ', summary: 'Quyết định thử nghiệm', signer: 'Nguyễn Văn A', issuedAt: new Date('2026-06-15T03:00:00Z'),
      actor: 'system', uploadDir: platform.ctx.config.uploadDir, ...extra,
    }),
  )

test('symbols follow Decree 30/2020: number/type-agency, two digits at least', () => {
  assert.equal(formatSymbol(12, 'QĐ', 'UBND'), '12/QĐ-UBND')
  assert.equal(formatSymbol(5, 'TB', 'SXD'), '05/TB-SXD')
  assert.equal(formatSymbol(123, 'CV', 'SYT'), '123/CV-SYT')
  assert.equal(agencyAbbreviation({ code: '11.SXD', kind: 'department' }), 'SXD')
  assert.equal(agencyAbbreviation({ code: '03127', kind: 'commune' }), 'UBND')
  assert.equal(normalizeSearchText('Quyết định ĐƯỜNG  Mường Phăng'), 'quyet dinh duong muong phang')
  assert.equal(vietnamYear(new Date('2026-12-31T16:59:59Z')), 2026)
  assert.equal(vietnamYear(new Date('2026-12-31T17:00:00Z')), 2027)
})

test('50 concurrent registrations get numbers 1..50 exactly, no duplicates, no gaps', async () => {
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => issue('11.SXD', { docType: 'TB', summary: `Thông báo số ${i}` })))
  const numbers = results.map((r) => r.number).sort((a, b) => a - b)
  assert.deepEqual(numbers, Array.from({ length: 50 }, (_, i) => i + 1))
  assert.equal(new Set(results.map((r) => r.symbol)).size, 50)
  const five = results.find((r) => r.number === 5)!
  assert.equal(five.symbol, '05/TB-SXD')
  assert.equal(five.register_year, 2026)
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from documents where agency_code = '11.SXD' and direction = 'outgoing'`.execute(platform.ctx.db)
  assert.equal(rows[0].n, 50)
  assert.equal((await verifyAuditChain(platform.ctx.db)).ok, true)
})

test('a rolled-back registration gives its number back', async () => {
  const first = await issue('11.SYT')
  assert.equal(first.number, 1)
  assert.equal(first.symbol, '01/QĐ-SYT')
  await assert.rejects(
    platform.ctx.db.transaction().execute(async (tx) => {
      const r = await issueOutgoingDocument(tx, { agencyCode: '11.SYT', docType: 'QĐ', summary: 'bị hủy', signer: null, issuedAt: new Date('2026-06-15T03:00:00Z'), actor: 'system', uploadDir: platform.ctx.config.uploadDir })
      assert.equal(r.number, 2)
      throw new Error('caller failed after numbering')
    }),
    /caller failed/,
  )
  const next = await issue('11.SYT')
  assert.equal(next.number, 2)
  assert.equal(next.symbol, '02/QĐ-SYT')
})

test('the register restarts on 1 January Vietnam time (UTC+7)', async () => {
  const late2026 = await issue('11.STP', { issuedAt: new Date('2026-12-31T16:30:00Z') })
  assert.deepEqual([late2026.register_year, late2026.number], [2026, 1])
  const first2027 = await issue('11.STP', { issuedAt: new Date('2026-12-31T17:30:00Z') })
  assert.deepEqual([first2027.register_year, first2027.number, first2027.symbol], [2027, 1, '01/QĐ-STP'])
  const second2027 = await issue('11.STP', { issuedAt: new Date('2027-01-02T02:00:00Z') })
  assert.deepEqual([second2027.register_year, second2027.number], [2027, 2])
})

test('communes number as UBND; every registration is audited and publishes an event', async () => {
  const r = await issue('03127', { docType: 'GCN' })
  assert.match(r.symbol, /^\d{2,}\/GCN-UBND$/)
  const audit = await sql<{ action: string }>`select action from audit_log where entity_type = 'document' and entity_id = ${r.id}`.execute(platform.ctx.db)
  assert.deepEqual(audit.rows.map((x) => x.action), ['document.issued'])
  const ev = await sql<{ n: number }>`select count(*)::int as n from outbox_events where topic = 'document.registered' and payload->>'id' = ${r.id}`.execute(platform.ctx.db)
  assert.equal(ev.rows[0].n, 1)
})

test('a dossier result issued with a link is found from the dossier; links to reports and documents both ways', async () => {
  const doc = await issue('11.SNV', { docType: 'KQ', summary: 'Kết quả giải quyết hồ sơ', links: [{ kind: 'dossier', ref: 'HS-2026-000123' }] })
  const linked = await documentsLinkedTo(platform.ctx.db, platform.ctx.config.provinceCode, 'dossier', 'HS-2026-000123')
  assert.equal(linked.length, 1)
  assert.deepEqual(Object.keys(linked[0]).sort(), ['direction', 'id', 'issued_at', 'summary', 'symbol'])
  assert.equal(linked[0].id, doc.id)
  assert.equal(linked[0].symbol, doc.symbol)
  assert.equal(linked[0].direction, 'outgoing')
  assert.equal(linked[0].issued_at, '2026-06-15T03:00:00.000Z')

  const answer = await issue('11.SNV', { docType: 'CV', summary: 'Trả lời phản ánh' })
  await platform.ctx.db.transaction().execute(async (tx) => {
    await linkDocument(tx, platform.ctx.config.provinceCode, answer.id, { kind: 'report', ref: 'PA-2026-000001' }, 'user:test')
    await linkDocument(tx, platform.ctx.config.provinceCode, answer.id, { kind: 'report', ref: 'PA-2026-000001' }, 'user:test') // idempotent
    await linkDocument(tx, platform.ctx.config.provinceCode, answer.id, { kind: 'document', ref: doc.id }, 'user:test')
  })
  assert.deepEqual((await documentsLinkedTo(platform.ctx.db, platform.ctx.config.provinceCode, 'report', 'PA-2026-000001')).map((d) => d.id), [answer.id])
  assert.deepEqual((await documentsLinkedTo(platform.ctx.db, platform.ctx.config.provinceCode, 'document', doc.id)).map((d) => d.id), [answer.id])
  assert.deepEqual((await documentsLinkedTo(platform.ctx.db, platform.ctx.config.provinceCode, 'document', answer.id)).map((d) => d.id), [doc.id])
  assert.deepEqual(await documentsLinkedTo(platform.ctx.db, platform.ctx.config.provinceCode, 'dossier', 'HS-none'), [])
})

test('bad input is refused before a number is taken', async () => {
  await assert.rejects(issue('11.SCT', { docType: 'Q-D' }), (e: { statusCode?: number; code?: string }) => e.statusCode === 400 && e.code === 'INVALID_DOC_TYPE')
  await assert.rejects(issue('11.SCT', { summary: 'x'.repeat(2001) }), (e: { statusCode?: number }) => e.statusCode === 400)
  await assert.rejects(issue('11.SCT', { summary: '  ' }), (e: { statusCode?: number }) => e.statusCode === 400)
  await assert.rejects(issue('99.NOPE'), (e: { statusCode?: number; code?: string }) => e.code === 'UNKNOWN_AGENCY')
  await assert.rejects(issue('11.SCT', { links: [{ kind: 'thing' as 'dossier', ref: 'x' }] }), (e: { code?: string }) => e.code === 'INVALID_LINK')
  assert.equal((await issue('11.SCT')).number, 1)
})

test('a registration is one folded statement that still writes the document, its handling row, each link, its event and its audit entry', async () => {
  const { getDocument, registerDocument } = await import('./repository.ts')
  const links = [{ kind: 'dossier' as const, ref: '03127-260615-0001' }, { kind: 'report' as const, ref: 'PA-FOLD-1' }, { kind: 'dossier' as const, ref: '03127-260615-0001' }]
  const doc = await platform.ctx.db.transaction().execute((tx) => registerDocument(tx, {
    agencyCode: '11.SYT', direction: 'outgoing', docType: 'CV', signer: 'Lò Văn B', issuedAt: new Date('2026-06-15T03:00:00Z'), registeredAt: new Date('2026-06-15T03:00:00Z'),
    summary: 'Công văn gộp một câu lệnh', recipients: ['UBND xã A', ' '], links, actor: 'user:fold',
  }))
  // The answer is the row as getDocument reads it.
  assert.deepEqual(doc, await getDocument(platform.ctx.db, platform.ctx.config.provinceCode, doc.id))
  assert.deepEqual(doc.recipients, ['UBND xã A'])
  const db = platform.ctx.db
  const handling = await sql<{ action: string; data: { number: number; symbol: string } }>`select action, data from document_handling where document_id = ${doc.id}::uuid`.execute(db)
  assert.deepEqual(handling.rows.map((r) => [r.action, r.data.number, r.data.symbol]), [['registered', doc.number, doc.symbol]])
  const linked = await sql<{ kind: string; ref: string }>`select kind, ref from document_links where document_id = ${doc.id}::uuid order by kind`.execute(db)
  assert.deepEqual(linked.rows, [{ kind: 'dossier', ref: '03127-260615-0001' }, { kind: 'report', ref: 'PA-FOLD-1' }])
  const events = await sql<{ payload: { id: string; number: number } }>`select payload from outbox_events where topic = 'document.registered' and payload->>'id' = ${doc.id}`.execute(db)
  assert.equal(events.rows.length, 1)
  assert.equal(events.rows[0].payload.number, doc.number)
  const audit = await sql<{ action: string }>`select action from audit_log where entity_type = 'document' and entity_id = ${doc.id}`.execute(db)
  assert.deepEqual(audit.rows.map((r) => r.action), ['document.issued'])
  assert.equal((await verifyAuditChain(db)).ok, true)
  // Without links the statement has no link part.
  const bare = await issue('11.SYT', { docType: 'TB', summary: 'Không liên kết' })
  assert.equal((await sql<{ n: number }>`select count(*)::int as n from document_links where document_id = ${bare.id}::uuid`.execute(db)).rows[0].n, 0)
  assert.equal((await sql<{ n: number }>`select count(*)::int as n from document_handling where document_id = ${bare.id}::uuid`.execute(db)).rows[0].n, 1)
})
