import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../db/database.ts'

/** A domain event, e.g. `report.created`. Written in the transaction of the change (outbox). */
export interface DomainEvent<P = Record<string, unknown>> {
  id: string
  topic: string
  payload: P
  createdAt: Date
}

export type EventHandler = (tx: Db, event: DomainEvent) => Promise<void>

/** Records an event in the same transaction as the change it describes. */
export async function publishEvent(tx: Db, topic: string, payload: Record<string, unknown>): Promise<void> {
  await outboxInsert(topic, payload).execute(tx)
}

/** The same insert as a statement to fold into a data-modifying WITH on a hot path. */
export function outboxInsert(topic: string, payload: Record<string, unknown>): RawBuilder<unknown> {
  return sql`insert into outbox_events (topic, payload) values (${topic}, ${JSON.stringify(payload)}::jsonb)`
}

/** In-process subscribers by topic; a module subscribes to another module's events here. */
export class EventBus {
  #handlers = new Map<string, EventHandler[]>()

  subscribe(topic: string, handler: EventHandler): void {
    const list = this.#handlers.get(topic) ?? []
    list.push(handler)
    this.#handlers.set(topic, list)
  }

  /**
   * Delivers pending events in id order. Each event is handled in a transaction together with
   * marking it dispatched, so a handler's writes and the mark commit together; rows are claimed
   * with SKIP LOCKED so several nodes can dispatch at once without delivering one event twice.
   */
  async dispatchPending(db: Db, limit = 100): Promise<number> {
    let done = 0
    for (let i = 0; i < limit; i++) {
      const handled = await db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ id: string; topic: string; payload: Record<string, unknown>; created_at: Date }>`
          select id::text as id, topic, payload, created_at from outbox_events
          where dispatched_at is null and attempts < 10
          order by outbox_events.id limit 1 for update skip locked`.execute(tx)
        const row = rows[0]
        if (!row) return false
        const event: DomainEvent = { id: row.id, topic: row.topic, payload: row.payload, createdAt: row.created_at }
        try {
          for (const h of this.#handlers.get(row.topic) ?? []) {
            await h(tx, event)
          }
          await sql`update outbox_events set dispatched_at = now(), attempts = attempts + 1 where id = ${row.id}::bigint`.execute(tx)
        } catch (err) {
          throw Object.assign(new Error('handler failed'), { eventId: row.id, cause: err })
        }
        return true
      }).catch(async (err: { eventId?: string; cause?: Error }) => {
        if (!err.eventId) throw err
        await sql`update outbox_events set attempts = attempts + 1, last_error = ${String(err.cause?.message ?? err.cause)} where id = ${err.eventId}::bigint`.execute(db)
        return true
      })
      if (!handled) break
      done++
    }
    return done
  }
}
