// Process plumbing shared by the benches that run servers in child processes: start a child and
// read its first JSON line, ask a child for its CPU over IPC, read any process's CPU from /proc,
// find a database's PostgreSQL backends, and pin processes to cores (taskset).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/**
 * A node:http provider answering 180 bytes of constant JSON (~20–50 µs of CPU a call): the
 * cheapest possible service behind a proxy. Prints `{"port":…}` and answers its CPU over IPC.
 */
export const ECHO_PROVIDER = `
const http = require('node:http')
const body = JSON.stringify({ id: 42, name: 'Nguyễn Văn A', unit: '11.SYT', items: Array.from({ length: 5 }, (_, i) => ({ i, ok: true })) })
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(body) }) })
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: s.address().port })))
process.on('SIGTERM', () => process.exit(0))
process.on('message', () => process.send(process.cpuUsage()))
`

/** Runs a snippet of CommonJS in a new node process with stdout piped and an IPC channel. */
export function spawnJs(code: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['-e', code], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
}

/** The first line a child prints on stdout, parsed as JSON (its port, URL, key …). */
export function firstLine(child: ChildProcess): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const on = (d: Buffer) => {
      buf += d
      const i = buf.indexOf('\n')
      if (i >= 0) {
        child.stdout!.off('data', on)
        resolve(JSON.parse(buf.slice(0, i)))
      }
    }
    child.stdout!.on('data', on)
    child.once('exit', (c) => reject(new Error(`exited ${c}`)))
  })
}

/** The first line a child prints that contains `marker`, parsed as JSON (e.g. its summary at exit). */
export function lineWith(child: ChildProcess, marker: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let buf = ''
    child.stdout!.on('data', (d) => {
      buf += d
      const line = buf.split('\n').find((l) => l.includes(marker))
      if (line) resolve(JSON.parse(line))
    })
  })
}

/** user+system CPU µs of a child that answers any IPC message with its `process.cpuUsage()`. */
export function cpuOverIpc(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m) => {
      const u = m as { user: number; system: number }
      resolve(u.user + u.system)
    })
    child.send('cpu')
  })
}

/** user+system CPU µs used so far by any process (utime + stime from /proc, 100 ticks a second); 0 once it is gone. */
export function procCpuUs(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10_000
  } catch {
    return 0
  }
}

/**
 * Pids of every live `postgres` process (postmaster, backends, walwriter, autovacuum …), or with
 * `database`, only the backends connected to that database (their process title names it).
 */
export function postgresPids(database?: string): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'postgres') continue
      if (database && !readFileSync(`/proc/${d}/cmdline`, 'utf8').split(/[\0 ]/).includes(database)) continue
      out.push(Number(d))
    } catch {
      // gone
    }
  }
  return out
}

/** Pins a process and all its threads to the given cores (`taskset -a -p -c`). Children started later inherit it. */
export function pinToCores(pid: number, cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' })
}
