#!/usr/bin/env node
// Before `npm start`: build the web app (web/dist) when it is missing or older than its sources,
// so a fresh clone serves the citizen app with `npm install && npm start` alone.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function newest(dir) {
  let t = 0
  for (const name of readdirSync(dir)) {
    if (name === 'dist' || name === 'node_modules') continue
    const p = join(dir, name)
    const s = statSync(p)
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs)
  }
  return t
}

const index = 'web/dist/index.html'
if (existsSync(index) && statSync(index).mtimeMs >= newest('web')) process.exit(0)
console.log('Building the web app (web/dist)…')
const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web', '--logLevel', 'warn'], { stdio: 'inherit' })
process.exit(r.status ?? 1)
