import assert from 'node:assert/strict'
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { cleanHeaders, parseCell, TypeInferrer } from './infer.ts'
import { readSourceRows } from './sources.ts'
import { checkReadOnlySelect, SqlRefused } from './datastore.ts'

test('cells: dd/mm/yyyy dates, ISO dates, integers, decimals, Vietnamese booleans; impossible dates refused', () => {
  assert.equal(parseCell('date', '05/09/2024'), '2024-09-05')
  assert.equal(parseCell('date', '2024-09-05'), '2024-09-05')
  assert.equal(parseCell('date', '31/02/2024'), undefined)
  assert.equal(parseCell('date', '29/02/2024'), '2024-02-29')
  assert.equal(parseCell('int', '-42'), -42)
  assert.equal(parseCell('int', '4.2'), undefined)
  assert.equal(parseCell('numeric', '4.25'), '4.25')
  assert.equal(parseCell('numeric', 'abc'), undefined)
  assert.equal(parseCell('bool', 'Có'), true)
  assert.equal(parseCell('bool', 'không'), false)
  assert.equal(parseCell('timestamp', '05/09/2024 14:30'), '2024-09-05T07:30:00.000Z')
  assert.equal(parseCell('text', '  Mường Thanh '), '  Mường Thanh ')
  assert.equal(parseCell('int', ''), null)
})

test('property: every integer prints back to itself, every valid day in dd/mm/yyyy parses to the same ISO day', () => {
  fc.assert(fc.property(fc.integer({ min: -1e15, max: 1e15 }), (n) => parseCell('int', String(n)) === n))
  fc.assert(fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }), (d) => {
    const iso = d.toISOString().slice(0, 10)
    const [y, m, day] = iso.split('-')
    return parseCell('date', `${day}/${m}/${y}`) === iso
  }))
})

test('inference reads the WHOLE file: a numeric column with stray text at row 90,000 is text, with the line reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-infer-'))
  const path = join(dir, 'awkward.csv')
  const lines = ['ma_xa;ten_xa;dan_so;ngay_cap_nhat']
  for (let i = 1; i <= 100_000; i++) {
    const pop = i === 90_000 ? 'không rõ' : String(1000 + (i % 5000))
    lines.push(`${i};Xã Mường Phăng ${i};${pop};${String((i % 28) + 1).padStart(2, '0')}/0${(i % 9) + 1}/2024`)
  }
  writeFileSync(path, '\uFEFF' + lines.join('\r\n') + '\r\n')
  let header: string[] | undefined
  let inf: TypeInferrer | undefined
  let count = 0
  for await (const r of readSourceRows(path, 'CSV')) {
    if (!header) {
      header = cleanHeaders(r.cells).headers
      inf = new TypeInferrer(header)
      assert.equal(r.line, 1)
      continue
    }
    inf!.add(r.cells, r.line)
    count++
  }
  assert.equal(count, 100_000)
  assert.deepEqual(header, ['ma_xa', 'ten_xa', 'dan_so', 'ngay_cap_nhat'])
  const fields = inf!.result()
  assert.equal(fields[0].type, 'int')
  assert.equal(fields[1].type, 'text')
  // Row 90,000 of data is line 90,001 of the file (the header is line 1).
  assert.deepEqual(fields[2], { id: 'dan_so', type: 'text', almost: { type: 'int', lines: [90_001] } })
  assert.equal(fields[3].type, 'date')
})

test('inference keeps codes with a leading zero as text', () => {
  const inf = new TypeInferrer(['ma', 'so'])
  inf.add(['03127', '12'], 2)
  inf.add(['10', '0.5'], 3)
  assert.deepEqual(inf.result().map((f) => f.type), ['text', 'numeric'])
})

test('CSV line numbers count quoted newlines; headers are cleaned and de-duplicated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-csv-'))
  const path = join(dir, 'q.csv')
  writeFileSync(path, 'a,a,\n1,"two\nlines",3\n4,5,6\n')
  const rows = []
  for await (const r of readSourceRows(path, 'CSV')) rows.push(r)
  assert.deepEqual(cleanHeaders(rows[0].cells).headers, ['a', 'a_2', 'field_3'])
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 4])
})

test('datastore_search_sql accepts one SELECT only', () => {
  assert.equal(checkReadOnlySelect('select 1;'), 'select 1')
  for (const bad of ['delete from x', 'select 1; drop table users', "select set_config('role','postgres',true)", 'select 1 -- x', 'select * into t from x', 'with a as (select 1) delete from b']) {
    assert.throws(() => checkReadOnlySelect(bad), SqlRefused, bad)
  }
})
