import { createHash, hash, type KeyObject } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'kysely'
import { canonicalJson } from '../../platform/canonical-json.ts'
import type { CopyIn, Db } from '../../platform/db/database.ts'
import { sealHash, sealMatches, signHash, verifyHashSignature, type SigningKey } from './signing.ts'

export const GENESIS_HASH = '0'.repeat(64)

/** What the gateway records of one call (nhật ký thông điệp). Bodies themselves only by hash. */
export interface CallFacts {
  at: string
  request_id: string
  /** `member/system` of the caller, or `unknown` when the key did not identify one. */
  client: string
  provider: string
  service: string
  method: string
  path: string
  status: number
  /** Machine code of the outcome: OK, UPSTREAM_TIMEOUT, NO_RIGHT, SUSPENDED_<rule>, … */
  outcome: string
  request_bytes: number
  response_bytes: number
  duration_ms: number
  request_sha256: string
  response_sha256: string
}

/** A record as signed: the facts, its place in the node's chain and the key that signed it. */
export interface SignedRecord extends CallFacts {
  node: string
  seq: number
  prev_hash: string
  key_id: string
}

/** A stored row: the canonical JSON that was hashed, its hash and its signature. */
export interface LogRow {
  node: string
  seq: number
  record: string
  prev_hash: string
  hash: string
  signature: string
}

interface Pending extends LogRow {
  facts: SignedRecord
  request_body: Buffer | null
  response_body: Buffer | null
  /** Its journal line, built once when its batch is written (journal rewrites reuse it). */
  line?: string
  /**
   * The seal (HMAC-SHA256 of its hash under the key's journal MAC key) the journal line of the
   * last record of each committed batch carries: the batch is whole and was written by a holder
   * of the signing key. Only in the journal.
   */
  seal?: string
  /**
   * The province of the node that answered the call (its connections' hoaban.province_code),
   * kept in the journal so that a replay after a restart with another PROVINCE_CODE, or by
   * another province's node adopting the journal, still lands on the original key (no duplicate).
   * Absent in journals written before it was kept: the replaying connection's province.
   */
  province_code?: string
}

/**
 * Records inserted into the database since the journal was last cut, above which a drain that is
 * still going cuts it anyway (see #drain).
 */
const JOURNAL_CUT_EVERY = 5_000

/** One-shot SHA-256 (crypto.hash: no Hash object per call); the empty body's is a constant. */
const EMPTY_SHA256 = createHash('sha256').digest('hex')
export const sha256Hex = (b: Buffer | string) => (b.length === 0 ? EMPTY_SHA256 : hash('sha256', b, 'hex'))
const hashRecord = (record: string) => sha256Hex(record)

/** At most this many records are committed (sealed, journaled) together (one event-loop tick's records otherwise). */
const MAX_TICK_BATCH = 256
/** Records per multi-row insert; the last of each is signed. */
const INSERT_BATCH = 500
const DONE = Promise.resolve()

/**
 * The signed, hash-chained message log, written without a database round trip on the proxy's
 * path. `append` chains the record in memory (its hash covers the previous record's hash); all
 * records appended in one event-loop tick (at most MAX_TICK_BATCH) are then committed together
 * at the end of that tick with ONE write(2) of all their journal lines, the last line sealed with
 * an HMAC of its hash (which, through the chain, commits to every record before it) under a key
 * derived from the signing key. `written()` resolves once the current batch is in the journal:
 * the gateway awaits it before it answers, so every answered call's record is in the journal
 * file (in the OS page cache, not fsynced: it survives a crash of the process, not a power cut).
 * A timer (every flushMs) drains the records into the database in multi-row inserts, signing
 * the last record of each insert with Ed25519 (which, through the chain, commits to every record
 * of the insert and before), and then rewrites the journal with only what is left. So a record
 * is signed before it is in the table, and the signature is off the answer's path: one Ed25519
 * signature per insert of up to INSERT_BATCH records instead of one per tick (at 6 000 calls/s,
 * 16% of the gateway's CPU went to signing and each answer waited for it). After a crash, `open`
 * replays the journal up to its last intact seal (insert … on conflict do nothing), signing what
 * it inserts, so a record that was answered for survives the process. Each node (process) keeps
 * its own chain. Records covered by a later signature are stored with an empty `signature`.
 */
export class MessageLog {
  #pending: Pending[] = []
  /** Chained this tick, not yet signed nor journaled. */
  #tick: Pending[] = []
  #tickDone: Promise<void> | undefined
  #tickSettle: ((e?: unknown) => void) | undefined
  #seq = 0
  #province: string | undefined
  #prev = GENESIS_HASH
  #fd: number
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #adoptTimer: NodeJS.Timeout | undefined
  /** Set by close(): no drain timer is started any more (close drains what is left itself). */
  #closing = false
  readonly #journal: string

  /** Drain inserts that went through the insert because COPY failed (a key already stored, …). */
  copyFallbacks = 0

  private constructor(private readonly db: Db, private readonly key: SigningKey, readonly node: string, dir: string, private readonly flushMs: number, private readonly copyIn?: CopyIn) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.#journal = join(dir, `journal-${node}.ndjson`)
    // The owner file comes first: another node that scans the folder never takes a live journal for an orphan.
    writeFileSync(ownerFile(this.#journal), String(process.pid), { mode: 0o600 })
    this.#fd = openSync(this.#journal, 'a', 0o600)
  }

  /**
   * Opens the log of a node: replays a journal left by a crash of this node, adopts the journals
   * of dead nodes in the same folder (the default node name holds the pid, so a restarted server
   * is a new node and would otherwise never replay what its previous life answered for), then
   * continues the chain. Orphans are looked for again every `adoptEveryMs` (a node that died
   * while another kept running).
   */
  static async open(db: Db, key: SigningKey, opts: { node: string; dir: string; flushMs: number; adoptEveryMs?: number; onAdoptError?: (e: unknown) => void; onReplay?: (r: JournalReplay) => void; copyIn?: CopyIn }): Promise<MessageLog> {
    const log = new MessageLog(db, key, opts.node, opts.dir, opts.flushMs, opts.copyIn)
    await log.#recover(opts.onAdoptError, opts.onReplay)
    // Another node's journal that cannot be replayed now must not stop this node: told, kept, retried.
    const adopt = () => adoptOrphanJournals(db, key, opts.dir, log.#journal, opts.onReplay).catch((e: unknown) => opts.onAdoptError?.(e))
    await adopt()
    const every = opts.adoptEveryMs ?? 60_000
    if (every > 0) {
      log.#adoptTimer = setInterval(() => void adopt(), every)
      log.#adoptTimer.unref()
    }
    log.#province = (await sql<{ p: string }>`select current_setting('hoaban.province_code') as p`.execute(db)).rows[0].p
    const { rows } = await sql<{ seq: string; hash: string }>`select seq::text as seq, hash from exchange_message_log
      where node = ${opts.node} order by exchange_message_log.seq desc limit 1`.execute(db)
    if (rows[0]) {
      log.#seq = Number(rows[0].seq)
      log.#prev = rows[0].hash
    }
    return log
  }

  async #recover(onError?: (e: unknown) => void, onReplay?: (r: JournalReplay) => void): Promise<void> {
    try {
      const r = await replayJournal(this.db, this.key, this.#journal)
      if (r.replayed + r.dropped > 0) onReplay?.(r)
    } catch (e) {
      if (!(e instanceof JournalKeyMismatch)) throw e
      // Written under another signing key (EXCHANGE_SIGNING_KEY changed): this node can neither
      // check its seals nor sign its records. Set aside under a name the orphan scan takes up,
      // so a node holding that key replays it; meanwhile each look reports it.
      renameSync(this.#journal, this.#journal.replace(/\.ndjson$/, `.key-${e.keyId}-${Date.now()}.ndjson`))
      onError?.(e)
    }
    this.#rewriteJournal([])
  }

  /**
   * Chains one record and queues it for this tick's signed, journaled batch; returns its
   * sequence number. Await `written()` before answering the call the record is about.
   */
  append(facts: CallFacts, bodies?: { request: Buffer; response: Buffer }): number {
    const seq = ++this.#seq
    const f = facts
    // Built with its keys already in canonical (sorted) order: JSON.stringify of it is
    // canonicalJson(signed) without sorting each call (the verifier checks the canonical form).
    const signed: SignedRecord = {
      at: f.at, client: f.client, duration_ms: f.duration_ms, key_id: this.key.keyId, method: f.method, node: this.node, outcome: f.outcome, path: f.path,
      prev_hash: this.#prev, provider: f.provider, request_bytes: f.request_bytes, request_id: f.request_id, request_sha256: f.request_sha256,
      response_bytes: f.response_bytes, response_sha256: f.response_sha256, seq, service: f.service, status: f.status,
    }
    const record = JSON.stringify(signed)
    const hash = hashRecord(record)
    const row: Pending = { node: this.node, seq, record, prev_hash: this.#prev, hash, signature: '', facts: signed, request_body: bodies?.request ?? null, response_body: bodies?.response ?? null, province_code: this.#province }
    this.#prev = hash
    this.#tick.push(row)
    if (this.#tick.length === 1) setImmediate(this.#commitTick)
    else if (this.#tick.length >= MAX_TICK_BATCH) this.#commitTick()
    return seq
  }

  /** Resolves when every record appended so far is in the journal, sealed (rejects if the write failed). */
  written(): Promise<void> {
    if (this.#tick.length === 0) return DONE
    if (!this.#tickDone) this.#tickDone = new Promise<void>((resolve, reject) => { this.#tickSettle = (e) => (e === undefined ? resolve() : reject(e)) })
    return this.#tickDone
  }

  /** Seals the last record of the tick's batch and writes the whole batch with one write(2). */
  readonly #commitTick = (): void => {
    const batch = this.#tick
    const settle = this.#tickSettle
    this.#tick = []
    this.#tickDone = undefined
    this.#tickSettle = undefined
    if (batch.length === 0) return
    let failure: unknown
    try {
      const last = batch[batch.length - 1]
      last.seal = sealHash(this.key, last.hash)
      let lines = ''
      for (const r of batch) {
        r.line = journalLine(r)
        lines += r.line
      }
      writeSync(this.#fd, lines)
    } catch (e) {
      failure = e ?? new Error('journal write failed')
    }
    for (const r of batch) this.#pending.push(r)
    this.#schedule()
    settle?.(failure)
  }

  #schedule(): void {
    if (this.#timer || this.#flushing || this.#closing || this.#pending.length === 0) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      // a failure is retried at the next timer (flush schedules it): the records stay in the
      // journal and in memory
      this.flush().catch(() => {})
    }, this.flushMs)
    this.#timer.unref()
  }

  /**
   * Writes pending records into the database (multi-row inserts of ≤ INSERT_BATCH, the last of
   * each signed), shortening the journal. One drain at a time: a flush asked for while another
   * runs waits for it, then drains what is left itself.
   */
  async flush(): Promise<void> {
    this.#commitTick()
    while (this.#flushing) await this.#flushing.catch(() => {})
    if (this.#pending.length === 0) return
    this.#flushing = this.#drain()
    try {
      await this.#flushing
    } finally {
      this.#flushing = undefined
      // what was committed during the drain, or is left after a failure, at the next timer
      this.#schedule()
    }
  }

  /**
   * Drains the records pending when it starts, not those committed while it runs: they wait for
   * the next timer. Draining until nothing was left made the drain chase the load: under a steady
   * stream each COPY carried only what arrived during the previous one's round trip (~35 records
   * at 5 000 calls/s), so every few dozen records cost a statement, a commit (a WAL flush) and an
   * Ed25519 signature, on the gateway's core.
   */
  async #drain(): Promise<void> {
    let left = this.#pending.length
    let sinceCut = 0
    while (left > 0) {
      const batch = this.#pending.slice(0, Math.min(INSERT_BATCH, left))
      // Signed before the insert, so that the table never holds an unsigned tail. A retry after
      // a failed insert may end elsewhere: an extra signature is harmless.
      const last = batch[batch.length - 1]
      if (!last.signature) last.signature = signHash(this.key, last.hash)
      await this.#store(batch)
      this.#pending = this.#pending.slice(batch.length)
      left -= batch.length
      sinceCut += batch.length
      // The journal is cut down to what is not in the database yet when the drain ends, not
      // after every batch: rewriting the rest after each batch of 500 cost O(pending) each time
      // (10% of the gateway's CPU under load). Records already inserted that are still in the
      // journal are harmless: a replay inserts with `on conflict do nothing`. A drain of a long
      // backlog cuts it every JOURNAL_CUT_EVERY records so it stays short.
      if (left === 0 || sinceCut >= JOURNAL_CUT_EVERY) {
        this.#rewriteJournal(this.#pending)
        sinceCut = 0
      }
    }
  }

  /**
   * Stores one drain batch: with COPY on PostgreSQL (the server parses it at half the cost of
   * the insert's JSON), else, or when COPY fails, with the insert, which skips rows already
   * stored. COPY is one statement: a failure stores none of its rows. It fails on a key already
   * there (a retry after a COPY whose commit the connection did not report back), on a row
   * without its province (journals of older versions) or when the server is down, in which case
   * the insert fails too and the drain is retried.
   */
  async #store(rows: Pending[]): Promise<void> {
    if (this.copyIn && rows.every((r) => r.province_code !== undefined)) {
      try {
        await this.copyIn(COPY_LOG, copyText(rows))
        return
      } catch {
        this.copyFallbacks++
      }
    }
    await insertRows(this.db, rows)
  }

  /**
   * Replaces the journal by the records not yet in the database (synchronous: no append
   * interleaves). The rename is atomic for a crashing process; like the appends, it is not
   * fsynced, so the journal protects against a process crash, not against a power cut.
   */
  #rewriteJournal(rest: Pending[]): void {
    const tmp = `${this.#journal}.tmp`
    const fd = openSync(tmp, 'w', 0o600)
    if (rest.length > 0) writeSync(fd, rest.map((r) => r.line ?? journalLine(r)).join(''))
    closeSync(fd)
    renameSync(tmp, this.#journal)
    closeSync(this.#fd)
    this.#fd = openSync(this.#journal, 'a', 0o600)
  }

  get pendingCount(): number {
    return this.#pending.length + this.#tick.length
  }

  async close(): Promise<void> {
    this.#closing = true
    this.#commitTick()
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#adoptTimer) clearInterval(this.#adoptTimer)
    this.#timer = undefined
    await this.flush().catch(() => {})
    closeSync(this.#fd)
    if (this.#pending.length === 0) {
      unlinkQuiet(this.#journal)
      unlinkQuiet(ownerFile(this.#journal))
    }
  }
}

const ownerFile = (journal: string) => journal.replace(/\.ndjson$/, '.owner')

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}

/** Whether the process that wrote an owner file is gone (no file, unreadable, or no such pid). */
function ownerIsDead(journal: string): boolean {
  let pid: number
  try {
    pid = Number.parseInt(readFileSync(ownerFile(journal), 'utf8'), 10)
  } catch {
    return true
  }
  return !Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: alive, owned by another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/** A journal sealed under another signing key than this node's: it can be neither checked nor signed here. */
export class JournalKeyMismatch extends Error {
  constructor(readonly file: string, readonly keyId: string, ownKeyId: string) {
    super(`message-log journal ${file} was written under signing key ${keyId}; this node's key is ${ownKeyId}. Start a gateway node with that key (EXCHANGE_SIGNING_KEY) and the same folder to replay it.`)
    this.name = 'JournalKeyMismatch'
  }
}

/**
 * What a journal replay did. `dropped`: lines not inserted (after the last intact batch end).
 * `altered`: a line's hash, link or seal did not hold, so lines were edited after they were
 * written (a crash only cuts the end off): worth an operator's look, not only a count.
 */
export interface JournalReplay { file: string; replayed: number; dropped: number; altered: boolean }

type JournalLine = LogRow & { request_body: string | null; response_body: string | null; province_code?: string; seal?: string }

/**
 * Inserts the records of a journal file up to its last intact batch (insert … on conflict do
 * nothing: records already flushed are skipped), signing the last record of each insert.
 *
 * What counts as intact: every record's hash is the SHA-256 of its record text and names the
 * previous line's hash, up to a batch end that holds: a seal (HMAC under the key's journal MAC
 * key) over its hash, or, in journals written before seals, an Ed25519 signature (checked later
 * by the verifier, as stored). A batch cut short by a crash (its sealed last line lost) was never
 * answered for (answers wait for the whole batch), and a batch whose lines were edited no longer
 * matches its seal: both are dropped with everything after them, not signed after the fact, so
 * an edited journal cannot get records signed at recovery. The chain goes on from the last record
 * inserted. A journal sealed under another key throws JournalKeyMismatch before anything is
 * inserted. Answers how many records were replayed and how many dropped.
 */
async function replayJournal(db: Db, key: SigningKey, file: string): Promise<JournalReplay> {
  if (!existsSync(file)) return { file, replayed: 0, dropped: 0, altered: false }
  const rows: Pending[] = []
  let unreadable = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue
    try {
      const j = JSON.parse(line) as JournalLine
      const facts = JSON.parse(j.record) as SignedRecord
      if (j.seal && facts.key_id !== key.keyId) throw new JournalKeyMismatch(file, facts.key_id, key.keyId)
      rows.push({ ...j, facts, request_body: j.request_body ? Buffer.from(j.request_body, 'base64') : null, response_body: j.response_body ? Buffer.from(j.response_body, 'base64') : null })
    } catch (e) {
      if (e instanceof JournalKeyMismatch) throw e
      unreadable++ // a line cut short by the crash: it was never answered for
    }
  }
  // The intact prefix: chained links up to the last batch end that holds.
  let intact = 0
  let altered = false
  for (let i = 0; i < rows.length && !altered; i++) {
    const r = rows[i]
    altered = hashRecord(r.record) !== r.hash || r.facts.prev_hash !== r.prev_hash || r.facts.seq !== r.seq || r.facts.node !== r.node ||
      (i > 0 && rows[i - 1].node === r.node && r.prev_hash !== rows[i - 1].hash) || (r.seal !== undefined && !sealMatches(key, r.hash, r.seal))
    if (!altered && (r.seal !== undefined || r.signature)) intact = i + 1
  }
  // Inserts of ≥ 200 records cut at batch ends: the last of each is sealed (signed now, under
  // this node's key, which is the records' own) or, in an older journal, signed already.
  let from = 0
  for (let i = 0; i < intact; i++) {
    const r = rows[i]
    if (i + 1 < intact && (i + 1 - from < 200 || (r.seal === undefined && !r.signature))) continue
    if (!r.signature) r.signature = signHash(key, r.hash)
    await insertRows(db, rows.slice(from, i + 1))
    from = i + 1
  }
  return { file, replayed: intact, dropped: rows.length - intact + unreadable, altered }
}

/**
 * Replays and removes the journals of dead nodes in `dir` (not `own`). A journal is taken by
 * renaming it first, so when two nodes look at once only one replays it; its records keep their
 * own node's chain, so the log verifies as before.
 */
export async function adoptOrphanJournals(db: Db, key: SigningKey, dir: string, own: string, onReplay?: (r: JournalReplay) => void): Promise<number> {
  let n = 0
  for (const name of readdirSync(dir)) {
    const m = /^(journal-.+\.ndjson)(?:\.adopted-(\d+))?$/.exec(name)
    if (!m) continue
    const file = join(dir, m[1])
    if (file === own) continue
    // A journal taken by a node that died while replaying it is taken again.
    const dead = m[2] ? !pidAlive(Number(m[2])) : ownerIsDead(file)
    if (!dead) continue
    const taken = `${file}.adopted-${process.pid}`
    try {
      renameSync(join(dir, name), taken)
    } catch {
      continue // another node took it
    }
    try {
      const r = await replayJournal(db, key, taken)
      onReplay?.(r)
      n += r.replayed
    } catch (e) {
      renameSync(taken, file) // the database refused: left for the next look
      throw e
    }
    unlinkSync(taken)
    unlinkQuiet(ownerFile(file))
  }
  return n
}

/** A record's journal line: unsigned (records are signed when drained); the last of a batch carries its seal. */
function journalLine(r: Pending): string {
  return `${JSON.stringify({ node: r.node, province_code: r.province_code, seq: r.seq, record: r.record, prev_hash: r.prev_hash, hash: r.hash, signature: '', seal: r.seal, request_body: r.request_body?.toString('base64') ?? null, response_body: r.response_body?.toString('base64') ?? null })}\n`
}

const COPY_LOG = 'copy exchange_message_log (node, province_code, seq, at, client, provider, service, method, status, duration_ms, record, prev_hash, hash, signature, request_body, response_body) from stdin'
const COPY_SPECIAL = /[\\\t\n\r]/
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }
/** A text value in COPY text format: backslash, tab, newline and carriage return escaped. */
const copyField = (v: string): string => (COPY_SPECIAL.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]) : v)
/** A bytea value in COPY text format: hex (`\x…`), its backslash escaped; null as `\N`. */
const copyBytes = (b: Buffer | null): string => (b === null ? '\\N' : `\\\\x${b.toString('hex')}`)

/** Rows in COPY text format, the columns of COPY_LOG. */
function copyText(rows: Pending[]): string {
  let out = ''
  for (const r of rows) {
    const f = r.facts
    out += `${copyField(r.node)}\t${copyField(r.province_code!)}\t${r.seq}\t${f.at}\t${copyField(f.client)}\t${copyField(f.provider)}\t${copyField(f.service)}\t${copyField(f.method)}\t${f.status}\t${f.duration_ms}\t${copyField(r.record)}\t${r.prev_hash}\t${r.hash}\t${copyField(r.signature)}\t${copyBytes(r.request_body)}\t${copyBytes(r.response_body)}\n`
  }
  return out
}

/**
 * Inserts rows with ONE statement parameter: the rows as a JSON array read by
 * `json_to_recordset` (JSON.stringify is native; the server parses it in C), instead of 15
 * parameters per row for the query builder and the driver to build, send and bind one by one.
 */
async function insertRows(db: Db, rows: Pending[]): Promise<void> {
  if (rows.length === 0) return
  const json = JSON.stringify(rows.map((r) => ({
    node: r.node, province_code: r.province_code ?? null, seq: r.seq, at: r.facts.at, client: r.facts.client, provider: r.facts.provider, service: r.facts.service, method: r.facts.method,
    status: r.facts.status, duration_ms: r.facts.duration_ms, record: r.record, prev_hash: r.prev_hash, hash: r.hash, signature: r.signature,
    request_body: r.request_body?.toString('base64') ?? null, response_body: r.response_body?.toString('base64') ?? null,
  })))
  await sql`insert into exchange_message_log (node, province_code, seq, at, client, provider, service, method, status, duration_ms, record, prev_hash, hash, signature, request_body, response_body)
    select node, coalesce(province_code, current_setting('hoaban.province_code')), seq, at, client, provider, service, method, status, duration_ms, record, prev_hash, hash, signature, decode(request_body, 'base64'), decode(response_body, 'base64')
    from json_to_recordset(${json}::json) as x(node text, province_code text, seq bigint, at timestamptz, client text, provider text, service text, method text, status integer,
      duration_ms double precision, record text, prev_hash text, hash text, signature text, request_body text, response_body text)
    on conflict (node, seq, at, province_code) do nothing`.execute(db)
}

export interface VerifyLogResult {
  ok: boolean
  records: number
  nodes: number
  /** The first record (in node, seq order) that fails, and why. */
  firstBad?: { node: string; seq: number; reason: string }
}

/**
 * Verifies rows offline with the gateway's public key, one at a time (constant memory): per node,
 * sequence numbers without gaps from 1, each record's hash over its canonical JSON, the link to
 * the previous hash, the columns repeated in the row, and the Ed25519 signatures. A record with
 * an empty signature is proven by the next signed record of its chain (whose signed hash commits
 * to it through the prev_hash links); a chain that ends with unsigned records fails. So every
 * record is proven: an altered record fails at its own hash; an altered record whose hash and
 * the following links were recomputed fails at the signature closing its batch. Rows must come
 * in (node, seq) order. `push` answers false at the first bad record; `result` tells which.
 */
export class LogVerifier {
  #node: string | undefined
  #prev = GENESIS_HASH
  #expectSeq = 1
  #records = 0
  #nodes = 0
  #bad: VerifyLogResult['firstBad']
  /** First and last sequence numbers of the current node's records not yet covered by a signature. */
  #unsigned: { from: number; to: number } | undefined
  constructor(private readonly publicKey: KeyObject) {}

  push(r: LogRow & { columns?: Partial<CallFacts> }): boolean {
    if (this.#bad) return false
    const seq = Number(r.seq)
    if (r.node !== this.#node) {
      if (!this.#closeChain()) return false
      this.#records++
      this.#node = r.node
      this.#nodes++
      this.#prev = GENESIS_HASH
      this.#expectSeq = 1
    } else this.#records++
    const reason = this.#check(r, seq)
    if (reason) {
      this.#bad = { node: r.node, seq, reason }
      return false
    }
    this.#prev = r.hash
    this.#expectSeq = seq + 1
    if (!r.signature) this.#unsigned = { from: this.#unsigned?.from ?? seq, to: seq }
    else this.#unsigned = undefined
    return true
  }

  /** The end of a node's chain: its last records must be covered by a signature. */
  #closeChain(): boolean {
    const u = this.#unsigned
    this.#unsigned = undefined
    if (!u || this.#node === undefined) return true
    this.#bad = { node: this.#node, seq: u.from, reason: `records ${u.from}..${u.to} are not covered by any signature (the chain ends unsigned)` }
    return false
  }

  #check(r: LogRow & { columns?: Partial<CallFacts> }, seq: number): string | undefined {
    if (seq !== this.#expectSeq) return seq > this.#expectSeq ? `records ${this.#expectSeq}..${seq - 1} are missing` : 'sequence out of order'
    let facts: SignedRecord
    try {
      facts = JSON.parse(r.record) as SignedRecord
    } catch {
      return 'record is not valid JSON'
    }
    if (canonicalJson(facts) !== r.record) return 'record is not in canonical form'
    if (facts.node !== r.node || facts.seq !== seq) return 'record names another node or sequence number'
    if (facts.prev_hash !== r.prev_hash || r.prev_hash !== this.#prev) return 'prev_hash does not match the previous record (a record was removed, added or reordered)'
    if (hashRecord(r.record) !== r.hash) return 'hash does not match the record (the record was altered)'
    if (r.signature && !verifyHashSignature(this.publicKey, r.hash, r.signature)) {
      return this.#unsigned ? `signature does not verify with the gateway public key (it covers records ${this.#unsigned.from}..${seq}: one of them was altered)` : 'signature does not verify with the gateway public key'
    }
    for (const [k, v] of Object.entries(r.columns ?? {})) {
      if (v !== undefined && String(v) !== String(facts[k as keyof CallFacts])) return `column ${k} differs from the signed record`
    }
    return undefined
  }

  result(): VerifyLogResult {
    if (!this.#bad) this.#closeChain()
    return this.#bad ? { ok: false, records: this.#records, nodes: this.#nodes, firstBad: this.#bad } : { ok: true, records: this.#records, nodes: this.#nodes }
  }
}

/** Verifies a sequence of rows (see LogVerifier). */
export function verifyMessageLog(rows: Iterable<LogRow & { columns?: Partial<CallFacts> }>, publicKey: KeyObject): VerifyLogResult {
  const v = new LogVerifier(publicKey)
  for (const r of rows) if (!v.push(r)) break
  return v.result()
}

/** Reads the stored log in (node, seq) order in pages, for verification. */
export async function* readLogRows(db: Db, page = 2000): AsyncGenerator<LogRow & { columns: Partial<CallFacts> }> {
  let after: { node: string; seq: number } = { node: '', seq: 0 }
  for (;;) {
    const { rows } = await sql<{ node: string; seq: string; record: string; prev_hash: string; hash: string; signature: string; client: string; provider: string; service: string; method: string; status: number; duration_ms: number; at: Date }>`
      select node, seq::text as seq, record, prev_hash, hash, signature, client, provider, service, method, status, duration_ms, at
      from exchange_message_log where (node, seq) > (${after.node}, ${after.seq}::bigint) order by exchange_message_log.node, exchange_message_log.seq limit ${page}`.execute(db)
    if (rows.length === 0) return
    for (const r of rows) {
      yield {
        node: r.node, seq: Number(r.seq), record: r.record, prev_hash: r.prev_hash, hash: r.hash, signature: r.signature,
        columns: { client: r.client, provider: r.provider, service: r.service, method: r.method, status: r.status, duration_ms: r.duration_ms, at: new Date(r.at).toISOString() },
      }
    }
    const last = rows[rows.length - 1]
    after = { node: last.node, seq: Number(last.seq) }
  }
}
