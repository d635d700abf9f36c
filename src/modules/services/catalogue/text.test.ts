import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DIEN_BIEN_DEPARTMENTS } from '../../identity/departments.ts'
import { loadCatalogueData } from './repository.ts'
import { instantOfVietnamDate, normalizeSearchText, vietnamDate } from './text.ts'

test('search text ignores case and diacritics, đ becomes d', () => {
  assert.equal(normalizeSearchText('Đăng ký  KHAI SINH'), 'dang ky khai sinh')
  assert.equal(normalizeSearchText('Cấp giấy phép xây dựng'), 'cap giay phep xay dung')
  // Precomposed and decomposed input give the same result.
  assert.equal(normalizeSearchText('Hộ tịch'.normalize('NFD')), normalizeSearchText('Hộ tịch'.normalize('NFC')))
})

test('Vietnam dates', () => {
  assert.equal(vietnamDate(new Date('2026-06-14T17:00:00Z')), '2026-06-15')
  assert.equal(vietnamDate(new Date('2026-06-14T16:59:59Z')), '2026-06-14')
  assert.equal(instantOfVietnamDate('2026-02-30'), undefined)
  assert.equal(vietnamDate(instantOfVietnamDate('2026-02-28')!), '2026-02-28')
})

test('the Điện Biên data file is complete and consistent', () => {
  const { versions, policies, fields } = loadCatalogueData()
  const codes = new Set(versions.map((v) => v.procedure_code))
  assert.ok(codes.size >= 30, `${codes.size} procedures`)
  assert.ok(versions.some((v) => v.level === 'commune') && versions.some((v) => v.level === 'province'))
  assert.ok(versions.filter((v) => v.priority).length >= 10)
  assert.ok(versions.filter((v) => v.fully_online).length >= 10)
  const units = new Set(DIEN_BIEN_DEPARTMENTS.map((d) => d.code))
  const fieldCodes = new Set(fields.map((f) => f.code))
  for (const v of versions) {
    assert.ok(v.handling_unit === 'commune' || units.has(v.handling_unit), `${v.procedure_code}: unknown unit ${v.handling_unit}`)
    assert.equal(v.level === 'commune', v.handling_unit === 'commune', `${v.procedure_code}: level and unit disagree`)
    assert.ok(fieldCodes.has(v.field), `${v.procedure_code}: unknown field ${v.field}`)
    assert.ok(Math.abs(v.steps.reduce((s, x) => s + x.share, 0) - 1) < 1e-9, `${v.procedure_code}: shares`)
    assert.equal(v.priority, v.priority_duration !== null, `${v.procedure_code}: priority duration`)
    assert.ok(v.components.length > 0 && v.legal_basis.length > 0)
    for (const c of v.components) assert.ok(c.formats.length > 0 && c.max_bytes > 0 && c.formats.every((f) => /^[a-z0-9]+$/.test(f)))
  }
  assert.ok(versions.some((v) => v.priority_duration?.unit === 'working_hours'), 'some priority procedures are done the same day')
  assert.ok(policies.some((p) => p.channel === 'online' && p.percent_off === 50))
})
