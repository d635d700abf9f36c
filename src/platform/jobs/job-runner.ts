import { randomUUID } from 'node:crypto'
import { CronExpressionParser } from 'cron-parser'
import { sql } from 'kysely'
import type { Db } from '../db/database.ts'

export interface JobContext {
  db: Db
  now: Date
  payload: Record<string, unknown>
}
export type JobHandler = (ctx: JobContext) => Promise<void>

export interface Schedule {
  /** Job name; the scheduled job runs the handler of the same name. */
  name: string
  /** Cron expression, evaluated in Asia/Ho_Chi_Minh. */
  cron: string
}

const TZ = 'Asia/Ho_Chi_Minh'

/** Queues a job in the caller's transaction. With a dedupe key, queuing the same key twice is a no-op. */
export async function enqueueJob(tx: Db, name: string, payload: Record<string, unknown> = {}, opts: { runAt?: Date; dedupeKey?: string; maxAttempts?: number } = {}): Promise<void> {
  await sql`insert into jobs (name, payload, run_at, dedupe_key, max_attempts)
    values (${name}, ${JSON.stringify(payload)}::jsonb, ${(opts.runAt ?? new Date()).toISOString()}, ${opts.dedupeKey ?? null}, ${opts.maxAttempts ?? 5})
    on conflict (dedupe_key) do nothing`.execute(tx)
}

export function nextCronRun(cron: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz: TZ }).next().toDate()
}

/**
 * Background jobs in a table, safe with several server processes on one database: a job is
 * claimed with FOR UPDATE SKIP LOCKED and a lease, so no two processes run it at once; a job
 * whose process died is taken again when its lease expires, so none is lost. Failed jobs are
 * retried with exponential back-off up to max_attempts.
 */
export class JobRunner {
  readonly #handlers = new Map<string, JobHandler>()
  readonly #schedules: Schedule[] = []
  readonly #workerId = `${process.pid}-${randomUUID().slice(0, 8)}`
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = true

  constructor(private readonly db: Db, private readonly opts: { pollMs?: number; leaseSeconds?: number; onError?: (err: unknown, job: string) => void; beforeTick?: () => Promise<void> } = {}) {}

  register(name: string, handler: JobHandler): void {
    this.#handlers.set(name, handler)
  }

  schedule(s: Schedule, handler: JobHandler): void {
    nextCronRun(s.cron, new Date()) // refuse a bad expression at start-up
    this.register(s.name, handler)
    this.#schedules.push(s)
  }

  /** Writes the schedules (keeping each one's next run unless its expression changed). */
  async installSchedules(now = new Date()): Promise<void> {
    for (const s of this.#schedules) {
      await sql`insert into job_schedules (name, cron, next_run_at) values (${s.name}, ${s.cron}, ${nextCronRun(s.cron, now).toISOString()})
        on conflict (name) do update set cron = excluded.cron,
          next_run_at = case when job_schedules.cron = excluded.cron then job_schedules.next_run_at else excluded.next_run_at end`.execute(this.db)
    }
  }

  /** Turns due schedules into queued jobs. One UPDATE claims a due schedule, so only one node queues it. */
  async enqueueDueSchedules(now = new Date()): Promise<number> {
    let n = 0
    for (const s of this.#schedules) {
      const next = nextCronRun(s.cron, now).toISOString()
      await this.db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ due: Date }>`update job_schedules set last_run_at = ${now.toISOString()}, next_run_at = ${next}
          where name = ${s.name} and next_run_at <= ${now.toISOString()} returning next_run_at as due`.execute(tx)
        if (rows.length > 0) {
          await enqueueJob(tx, s.name, { scheduledAt: now.toISOString() }, { runAt: now, dedupeKey: `${s.name}@${now.toISOString().slice(0, 16)}` })
          n++
        }
      })
    }
    return n
  }

  /** Claims and runs one ready job. Returns false when none is ready. */
  async runOne(now = new Date()): Promise<boolean> {
    const lease = this.opts.leaseSeconds ?? 300
    const { rows } = await sql<{ id: string; name: string; payload: Record<string, unknown>; attempts: number; max_attempts: number }>`
      update jobs set status = 'running', attempts = attempts + 1, locked_by = ${this.#workerId},
        locked_until = ${now.toISOString()}::timestamptz + make_interval(secs => ${lease})
      where id = (
        select id from jobs
        where (status = 'queued' and run_at <= ${now.toISOString()})
           or (status = 'running' and locked_until < ${now.toISOString()})
        order by run_at, id limit 1 for update skip locked)
      returning id::text as id, name, payload, attempts, max_attempts`.execute(this.db)
    const job = rows[0]
    if (!job) return false
    const handler = this.#handlers.get(job.name)
    try {
      if (!handler) throw new Error(`No handler for job ${job.name}`)
      await handler({ db: this.db, now, payload: job.payload })
      await sql`update jobs set status = 'done', finished_at = now(), locked_by = null, locked_until = null where id = ${job.id}::bigint and locked_by = ${this.#workerId}`.execute(this.db)
    } catch (err) {
      this.opts.onError?.(err, job.name)
      const final = job.attempts >= job.max_attempts
      const backoff = Math.min(3600, 2 ** job.attempts * 5)
      await sql`update jobs set status = ${final ? 'failed' : 'queued'}, last_error = ${String((err as Error)?.message ?? err)},
          run_at = now() + make_interval(secs => ${backoff}), locked_by = null, locked_until = null, finished_at = ${final ? now.toISOString() : null}
        where id = ${job.id}::bigint`.execute(this.db)
    }
    return true
  }

  /** One pass: schedules, then ready jobs until none is left (bounded). */
  async tick(now = new Date()): Promise<void> {
    await this.opts.beforeTick?.()
    await this.enqueueDueSchedules(now)
    for (let i = 0; i < 100 && (await this.runOne(now)); i++);
  }

  start(): void {
    this.#stopped = false
    const loop = () => {
      if (this.#stopped) return
      this.#running = this.tick().catch((err) => this.opts.onError?.(err, 'tick')).finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(loop, this.opts.pollMs ?? 2000)
      })
    }
    this.#timer = setTimeout(loop, 200)
  }

  /** Stops polling and waits for the job in hand to finish. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    await this.#running
  }
}
