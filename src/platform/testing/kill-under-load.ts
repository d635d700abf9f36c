import { randomUUID } from 'node:crypto'
import { startServerProcess, type ServerProcess } from './server-process.ts'

const DBP = { lat: 21.3856, lon: 103.0167 }

export interface KillScenarioResult {
  total: number
  ackedBeforeKill: number
  /** Acknowledged before the kill but absent afterwards (must be 0). */
  lostAcked: string[]
  /** Retries of acknowledged writes that came back with another code (must be 0). */
  changedOnRetry: number
  retried: number
  /** Output of the restarts, for the record. */
  restartNotes: string[]
  /** Descriptions found more than once (must be empty). */
  duplicates: string[]
  missingAfterRetry: number
  /** The other writes of a mixed load (`opts.extra`), each with its final answer after retries. */
  extra: { kind: string; key: string; ackedBeforeKill: boolean; id: string | undefined }[]
  /** Extra writes acknowledged before the kill whose retry answered another id (must be 0). */
  extraChangedOnRetry: number
}

/** Another kind of write for a mixed load: sent with its Idempotency-Key, answered 201 with a body naming what was written. */
export interface ExtraWrite {
  kind: string
  send: (url: string, key: string) => Promise<Response>
  /** What the 201 body says was written (a code, a register number...). */
  id: (body: Record<string, unknown>) => string
}

/**
 * Sends `total` reports with idempotency keys from `concurrency` clients, SIGKILLs the server
 * after `killAfter` acknowledgements, restarts it (with `restartEnv`), retries every unanswered
 * request (and some answered ones) with its key, then reads back through the API.
 */
export async function runKillScenario(opts: {
  env: Record<string, string>; restartEnv?: Record<string, string>; total?: number; killAfter?: number; concurrency?: number; tag: string
  /** Mixed load: called once the server is up (e.g. to make users); its writes are interleaved with the reports. */
  extra?: (url: string) => Promise<ExtraWrite[]>
}): Promise<KillScenarioResult> {
  const total = opts.total ?? 300
  const killAfter = opts.killAfter ?? 100
  const requests = Array.from({ length: total }, (_, i) => ({ key: randomUUID(), body: { category: 'traffic', description: `${opts.tag} ${i}`, ...DBP } }))
  const acked = new Map<string, string>()
  const post = (server: ServerProcess, r: (typeof requests)[number]) =>
    fetch(`${server.url}/api/reports`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': r.key }, body: JSON.stringify(r.body) })

  const server = await startServerProcess(opts.env)
  const extras = (opts.extra ? await opts.extra(server.url) : []).map((w) => ({ ...w, key: randomUUID() }))
  const extraAcked = new Map<string, string>()
  const order: (['r', number] | ['x', number])[] = []
  for (let i = 0, j = 0; i < total || j < extras.length; ) {
    if (i < total) order.push(['r', i++])
    if (j < extras.length && (i % 2 === 0 || i >= total)) order.push(['x', j++])
  }
  let next = 0
  let killed = false
  const worker = async () => {
    while (next < order.length && !killed) {
      const [kind, idx] = order[next++]
      try {
        if (kind === 'r') {
          const r = requests[idx]
          const res = await post(server, r)
          if (res.status === 201) acked.set(r.key, (await res.json()).code)
        } else {
          const w = extras[idx]
          const res = await w.send(server.url, w.key)
          if (res.status === 201) extraAcked.set(w.key, w.id(await res.json()))
        }
      } catch {
        // the kill dropped the connection: unanswered, retried below
      }
      if (acked.size + extraAcked.size >= killAfter && !killed) {
        killed = true
        server.child.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker))
  await server.exited
  const ackedBeforeKill = acked.size + extraAcked.size
  const extraAckedBeforeKill = new Set(extraAcked.keys())
  const notes: string[] = []

  let restarted = await startServerProcess({ ...opts.env, ...(opts.restartEnv ?? {}) })
  const exitedEarly = await Promise.race([restarted.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))])
  if (exitedEarly) {
    notes.push(`restart without recovery refused: ${restarted.output().split('\n').find((l) => /not closed cleanly/.test(l)) ?? restarted.output().slice(0, 200)}`)
    restarted = await startServerProcess({ ...opts.env, RECOVER_DATA_DIR: '1' })
    notes.push('restarted with RECOVER_DATA_DIR=1')
  }
  const retry = requests.filter((r) => !acked.has(r.key)).concat(requests.filter((r) => acked.has(r.key)).slice(0, 20))
  let changedOnRetry = 0
  let missingAfterRetry = 0
  for (const r of retry) {
    const res = await post(restarted, r)
    if (res.status !== 201) {
      missingAfterRetry++
      continue
    }
    const code = (await res.json()).code
    if (acked.has(r.key) && acked.get(r.key) !== code) changedOnRetry++
    acked.set(r.key, code)
  }
  // The other writes: every unanswered one, and every answered one, again with its key.
  let extraChangedOnRetry = 0
  for (const w of extras) {
    const res = await w.send(restarted.url, w.key)
    if (res.status !== 201) {
      await res.body?.cancel()
      continue
    }
    const id = w.id(await res.json())
    if (extraAcked.has(w.key) && extraAcked.get(w.key) !== id) extraChangedOnRetry++
    extraAcked.set(w.key, id)
  }
  // Read back through the public feed (newest first, keyset paging).
  const seen = new Map<string, string[]>()
  let cursor: string | null = null
  do {
    const res: Response = await fetch(`${restarted.url}/api/reports?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
    const page = (await res.json()) as { items: { code: string; description: string }[]; next_cursor: string | null }
    for (const it of page.items) if (it.description.startsWith(`${opts.tag} `)) seen.set(it.description, [...(seen.get(it.description) ?? []), it.code])
    cursor = page.next_cursor
  } while (cursor)
  restarted.child.kill('SIGTERM')
  await restarted.exited
  const allCodes = new Set([...seen.values()].flat())
  return {
    total,
    ackedBeforeKill,
    lostAcked: [...acked.values()].filter((c) => !allCodes.has(c)),
    changedOnRetry,
    retried: retry.length,
    restartNotes: notes,
    duplicates: [...seen.entries()].filter(([, codes]) => codes.length > 1).map(([d]) => d),
    missingAfterRetry: missingAfterRetry + (total - seen.size),
    extra: extras.map((w) => ({ kind: w.kind, key: w.key, ackedBeforeKill: extraAckedBeforeKill.has(w.key), id: extraAcked.get(w.key) })),
    extraChangedOnRetry,
  }
}
