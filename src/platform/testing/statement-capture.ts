import { appendFileSync } from 'node:fs'
import { PostgresQueryCompiler, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely'
import type { Database } from '../db/database.ts'
import { checkProvinceRouting } from '../db/province-routing.ts'

/**
 * Sees the SQL text of every statement sent through a Kysely handle (and the transactions and
 * connections taken from it): a plugin compiles each query as the dialect will. Tests use it to
 * check what the code really sends (province-routing.test.ts). Off until `enabled` is set, so the
 * migrations run unseen.
 */
export class StatementCapture implements KyselyPlugin {
  enabled = false
  readonly statements: string[] = []
  readonly #compiler = new PostgresQueryCompiler()
  constructor(private readonly onStatement?: (text: string) => void) {}

  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    if (this.enabled) {
      const text = this.#compiler.compileQuery(node).sql
      this.statements.push(text)
      this.onStatement?.(text)
    }
    return node
  }

  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return result
  }

  /** The database with every statement going through this capture. */
  wrap(database: Database): Database {
    const db = database.db.withPlugin(this)
    return { ...database, db, readDb: database.readDb === database.db ? db : database.readDb.withPlugin(this) }
  }
}

/**
 * With CHECK_PROVINCE_ROUTING=1 in the environment, every test platform refuses a statement that
 * breaks the routing rule (src/platform/db/province-routing.ts); with CHECK_PROVINCE_ROUTING=<a
 * file path> it appends them to that file instead. A way to run any module's tests as a check of
 * the statements they reach.
 */
export function routingCheckFromEnv(): StatementCapture | undefined {
  const mode = process.env.CHECK_PROVINCE_ROUTING
  if (!mode) return undefined
  return new StatementCapture((text) => {
    const { violation } = checkProvinceRouting(text)
    if (!violation) return
    if (mode === '1') throw new Error(`Not routable to one shard: ${violation}\n${text}`)
    appendFileSync(mode, `${violation}\n${text.replace(/\s+/g, ' ')}\n\n`)
  })
}
