import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { buildGazetteer, sampleCsv, type Place } from '../../geo/index.ts'
import { DIEN_BIEN_CATEGORIES } from '../categories.ts'
import { fitSms, helpReply, parseSms, parseTrackingCode, SMS_REPLY_MAX, SMS_SINGLE, smsCategories, toGsm, type SmsCommand, type SmsDictionary } from './parser.ts'

// The real shipped communes (with the old communes merged into them) and the sample villages.
const units = JSON.parse(readFileSync(new URL('../../geo/data/units-dien-bien.json', import.meta.url), 'utf8')) as {
  current: { communes: { code: string; name: string; full_name?: string; merged_from: { name?: string }[] }[] }
}
const communes: Place[] = units.current.communes.map((c) => {
  const full = c.full_name ?? c.name
  return { kind: 'commune', id: c.code, name: full, commune_code: c.code, commune_name: full, lat: null, lon: null, aliases: c.merged_from.map((m) => m.name).filter((n): n is string => !!n) }
})
const communeName = new Map(communes.map((c) => [c.id, c.name]))
const villages: Place[] = (parse(sampleCsv('villages'), { columns: true }) as { name: string; commune_code: string; lon: string; lat: string; aliases: string }[]).map((v, i) => ({
  kind: 'village',
  id: String(i + 1),
  name: v.name,
  commune_code: v.commune_code,
  commune_name: communeName.get(v.commune_code)!,
  lat: Number(v.lat),
  lon: Number(v.lon),
  aliases: v.aliases ? v.aliases.split('|') : [],
}))
const dict: SmsDictionary = { categories: smsCategories(DIEN_BIEN_CATEGORIES), gazetteer: buildGazetteer([...communes, ...villages]) }

function report(text: string): Extract<SmsCommand, { kind: 'report' }> {
  const c = parseSms(text, dict)
  assert.equal(c.kind, 'report', `${text} → ${JSON.stringify(c)}`)
  return c as Extract<SmsCommand, { kind: 'report' }>
}
function errorOf(text: string): Extract<SmsCommand, { kind: 'error' }> {
  const c = parseSms(text, dict)
  assert.equal(c.kind, 'error', `${text} → ${JSON.stringify(c)}`)
  return c as Extract<SmsCommand, { kind: 'error' }>
}

test('the shipped communes include old names as aliases (sanity of the fixture)', () => {
  assert.equal(communes.length, 45)
  assert.ok(communes.find((c) => c.id === '03160')!.aliases.includes('Xã Chung Chải'))
})

test('reports with and without diacritics, any case, extra spaces', () => {
  for (const text of ['PA GT Bản Mển Đường vào bản bị sạt lở, xe máy không qua được', 'pa gt ban men duong vao ban bi sat lo', '  Pa   GT    BAN   MEN   duong sat lo  ']) {
    const r = report(text)
    assert.equal(r.category, 'traffic')
    assert.equal(r.place.name, 'Bản Mển')
    assert.equal(r.place.commune_code, '03328')
    assert.match(r.description.toLowerCase(), /^(đường|duong)/)
  }
  const c = report('PA MT xa Muong Nhe rac thai do ra suoi')
  assert.deepEqual([c.category, c.place.kind, c.place.commune_code, c.description], ['environment', 'commune', '03160', 'rac thai do ra suoi'])
  assert.equal(report('PA DI Phường Điện Biên Phủ mất điện từ sáng').place.commune_code, '03127')
})

test('typos in place and category names, words for categories', () => {
  assert.equal(report('PA GT Huoi Soo cau treo bi hong').place.name, 'Bản Huổi Só')
  assert.equal(report('PA GT Muong Nhee duong sat lo').place.commune_code, '03160')
  assert.equal(report('PA giao thong Tia Dinh duong tron truot').category, 'traffic')
  assert.equal(report('PA giao thog Tia Dinh duong tron truot').category, 'traffic')
  assert.equal(report('PA nuoc Ban Phang mat nuoc 3 ngay').category, 'water')
  // Old commune names still reach the commune that absorbed them.
  assert.equal(report('PA YT Chung Chai tram y te dong cua').place.name, 'Bản Chung Chải')
  assert.equal(report('PA YT xa Chung Chai tram y te dong cua').place.commune_code, '03160')
})

test('wrong order: place first, then category', () => {
  const r = report('PA Ban Men GT duong sat lo')
  assert.deepEqual([r.category, r.place.name, r.description], ['traffic', 'Bản Mển', 'duong sat lo'])
  const d = report('PA Dien Bien Phu GT o ga truoc cho')
  assert.deepEqual([d.category, d.place.commune_code, d.description], ['traffic', '03127', 'o ga truoc cho'])
  // PA forgotten, or glued to the code.
  assert.equal(report('GT Ban Men duong sat lo').place.name, 'Bản Mển')
  assert.equal(report('PAGT Ban Men duong sat lo').category, 'traffic')
})

test('a village name shared by two communes: ambiguous, unless the commune follows', () => {
  const e = errorOf('PA GT Na Pen duong hong')
  assert.equal(e.error, 'AMBIGUOUS_PLACE')
  assert.match(e.reply, /Thanh Nua/)
  assert.match(e.reply, /Muong Nha/)
  const r = report('PA GT Ban Na Pen xa Thanh Nua duong hong')
  assert.deepEqual([r.place.name, r.place.commune_code, r.description], ['Bản Nà Pen', '03328', 'duong hong'])
})

test('place named inside the text when it does not follow the code', () => {
  const r = report('PA GT duong vao Ban Men bi sat lo')
  assert.equal(r.place.name, 'Bản Mển')
  assert.equal(r.description, 'duong vao Ban Men bi sat lo')
})

test('errors give a correction hint: unknown code lists the codes, unknown place, no text, empty, garbage', () => {
  const codes = errorOf('PA XYZ Ban Men duong sat lo')
  assert.equal(codes.error, 'MISSING_CATEGORY')
  for (const c of ['GT', 'MT', 'DI', 'NU', 'YT']) assert.match(codes.reply, new RegExp(`\\b${c}\\b`))
  assert.equal(errorOf('PA GT Hogwarts duong sat lo').error, 'UNKNOWN_PLACE')
  assert.match(errorOf('PA GT Hogwarts duong sat lo').reply, /Hogwarts/)
  assert.equal(errorOf('PA GT Ban Men').error, 'MISSING_TEXT')
  assert.equal(errorOf('').error, 'EMPTY')
  assert.equal(errorOf('   \n\t ').error, 'EMPTY')
  assert.equal(errorOf('xin chao').error, 'UNKNOWN_COMMAND')
  assert.equal(errorOf('@@@ ### !!!').error, 'EMPTY')
  assert.equal(errorOf('PA').error, 'MISSING_CATEGORY')
})

test('status and help commands', () => {
  assert.deepEqual(parseSms('TT PA-2026-000123', dict), { kind: 'status', code: 'PA-2026-000123' })
  assert.deepEqual(parseSms('tt pa 2026 123', dict), { kind: 'status', code: 'PA-2026-000123' })
  assert.deepEqual(parseSms('Tt   PA2026000042', dict), { kind: 'status', code: 'PA-2026-000042' })
  assert.equal(parseSms('TT hello', dict).kind, 'error')
  assert.deepEqual(parseSms('HD', dict), { kind: 'help' })
  assert.deepEqual(parseSms('huong dan', dict), { kind: 'help' })
  assert.equal(parseTrackingCode('ma 2026-000777'), 'PA-2026-000777')
  const help = helpReply(dict)
  assert.ok(help.length <= SMS_REPLY_MAX)
  assert.match(help, /GT=ha tang giao thong/)
})

test('very long messages: the description is kept up to the message limit, no crash', () => {
  const long = `PA GT Ban Men ${'duong sat lo rat nang '.repeat(500)}`
  const r = report(long)
  assert.ok(r.description.length <= 1600)
  assert.ok(r.description.length > 1000)
})

const GSM_SAFE = /^[A-Za-z0-9 .,:;!?()'"+\-/=#%&*@<>_]*$/

test('property: never throws; every reply is GSM-7 safe, ≤ 160 chars or (code lists) ≤ 306', () => {
  const words = ['PA', 'pa', 'TT', 'HD', 'GT', 'MT', 'giao', 'thong', 'Bản', 'Mển', 'Muong', 'Nhe', 'xa', 'Na', 'Pen', 'Điện', 'Biên', 'Phủ', 'đường', 'sạt', 'lở', '2026', 'PA-2026-000001', '😀', '\u0000', '   ']
  const messages = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.array(fc.constantFrom(...words), { maxLength: 20 }).map((w) => w.join(' ')),
    fc.string({ minLength: 1500, maxLength: 5000 }),
  )
  fc.assert(
    fc.property(messages, (text) => {
      const c = parseSms(text, dict)
      if (c.kind === 'error') {
        assert.match(c.reply, GSM_SAFE)
        assert.ok(c.reply.length <= SMS_REPLY_MAX, c.reply)
        if (!['MISSING_CATEGORY', 'UNKNOWN_COMMAND', 'EMPTY'].includes(c.error)) assert.ok(c.reply.length <= SMS_SINGLE, c.reply)
      }
      if (c.kind === 'report') assert.ok(c.description.length >= 3 && c.description.length <= 1600)
    }),
    { numRuns: 400 },
  )
})

test('toGsm and fitSms strip diacritics and cut with a marker', () => {
  assert.equal(toGsm('Đã nhận phản ánh ở Bản Mển'), 'Da nhan phan anh o Ban Men')
  const cut = fitSms('x'.repeat(500))
  assert.equal(cut.length, SMS_SINGLE)
  assert.ok(cut.endsWith('..'))
})
