import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { AppError } from '../../../platform/http/errors.ts'
import { checkActions, checkCondition, matchesFilters, renderTemplate, type Fact } from './definitions.ts'
import { endOfDayInstants } from './engine.ts'
import { SEED_RULES } from './seed.ts'

const fact = (data: Fact['data'], unit: string | null = 'U1'): Fact => ({ key: 'k', unit_code: unit, data })

test('the seeded rules are valid', () => {
  for (const r of SEED_RULES) {
    checkCondition(r.condition)
    checkActions(r.actions, r.condition)
  }
})

test('filters: eq/ne and in/not-in are complements; numbers compare as numbers', () => {
  fc.assert(fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), (v, w) => {
    const f = fact({ n: v })
    assert.equal(matchesFilters(f, [{ field: 'n', op: 'eq', value: w }]), !matchesFilters(f, [{ field: 'n', op: 'ne', value: w }]))
    assert.equal(matchesFilters(f, [{ field: 'n', op: 'gt', value: w }]), v > w)
    assert.equal(matchesFilters(f, [{ field: 'n', op: 'lte', value: w }]), v <= w)
    assert.equal(matchesFilters(f, [{ field: 'n', op: 'in', value: [w, 5] }]), v === w || v === 5)
  }))
  assert.equal(matchesFilters(fact({}, 'U1'), [{ field: 'unit_code', op: 'eq', value: 'U1' }]), true)
  assert.equal(matchesFilters(fact({ t: 'Đường hỏng' }), [{ field: 't', op: 'contains', value: 'đường' }]), true)
  assert.equal(matchesFilters(fact({}), [{ field: 'missing', op: 'gt', value: 1 }]), false)
})

test('templates fill known fields and leave unknown ones as written', () => {
  fc.assert(fc.property(fc.string({ maxLength: 30 }).filter((s) => !s.includes('{')), (v) => {
    assert.equal(renderTemplate('Mã {code} – {unknown} – {unit_code}', fact({ code: v })), `Mã ${v} – {unknown} – U1`)
  }))
})

test('bad conditions and actions are refused with INVALID_RULE', () => {
  const bad = (f: () => void) => assert.throws(f, (e: unknown) => e instanceof AppError && e.statusCode === 400 && e.code === 'INVALID_RULE')
  bad(() => checkCondition({ fact: 'weather' }))
  bad(() => checkCondition({ event: 'nope.topic' }))
  bad(() => checkCondition({ fact: 'commune_silent', silent_days: 30 }))
  bad(() => checkCondition({ fact: 'feed_stale', stale_days: 2, where: [{ field: 'x', op: 'like', value: 1 }] }))
  const c = { fact: 'report_overdue' as const, min_working_days: 1 }
  bad(() => checkActions([], c))
  bad(() => checkActions([{ type: 'notify', channel: 'email', to: { email: 'x' }, text_vi: 'a' }], c))
  bad(() => checkActions([{ type: 'apology_letter' }], c))
  bad(() => checkActions([{ type: 'flag_unit', level: 'red', reason_vi: 'a', reason_en: 'a' }], c))
})

test('backtest instants: one per Vietnam day end in the range, then the end itself, in order', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 60 * 86_400 }), fc.integer({ min: 1, max: 40 * 86_400 }), (startS, spanS) => {
    const from = new Date(Date.UTC(2026, 0, 1) + startS * 1000)
    const to = new Date(from.getTime() + spanS * 1000)
    const xs = endOfDayInstants(from, to)
    assert.equal(xs.at(-1)!.getTime(), to.getTime())
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i] > xs[i - 1])
    for (const x of xs.slice(0, -1)) {
      assert.ok(x >= from && x < to)
      assert.equal(new Date(x.getTime() + 7 * 3600_000).toISOString().slice(11, 19), '23:59:59')
    }
  }))
})
