/**
 * Real local servers for the notification tests: a small SMTP server (node:net, enough of
 * RFC 5321 for nodemailer) and an HTTP server standing in for an SMS gateway or a push service.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'

export interface ReceivedMail {
  from: string
  to: string[]
  data: string
}

/**
 * An SMTP server. `reply(rcpt)` decides per recipient: undefined accepts; a string such as
 * '451 4.3.0 try later' or '550 5.1.1 no such user' is sent as the RCPT reply.
 */
export async function startSmtpServer(opts: { reply?: (rcpt: string) => string | undefined } = {}): Promise<{ port: number; mails: ReceivedMail[]; close: () => Promise<void> }> {
  const mails: ReceivedMail[] = []
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buffer = ''
    let inData = false
    let data: string[] = []
    let from = ''
    let to: string[] = []
    const send = (line: string) => socket.write(`${line}\r\n`)
    send('220 test.local ESMTP ready')
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8')
      let i: number
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 2)
        if (inData) {
          if (line === '.') {
            inData = false
            mails.push({ from, to, data: data.join('\r\n') })
            data = []
            send('250 2.0.0 queued as T' + mails.length)
          } else data.push(line.startsWith('..') ? line.slice(1) : line)
          continue
        }
        const cmd = line.slice(0, 4).toUpperCase()
        if (cmd === 'EHLO') socket.write('250-test.local\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n')
        else if (cmd === 'HELO') send('250 test.local')
        else if (cmd === 'MAIL') {
          from = /<([^>]*)>/.exec(line)?.[1] ?? ''
          to = []
          send('250 2.1.0 ok')
        } else if (cmd === 'RCPT') {
          const rcpt = /<([^>]*)>/.exec(line)?.[1] ?? ''
          const r = opts.reply?.(rcpt)
          if (r) send(r)
          else {
            to.push(rcpt)
            send('250 2.1.5 ok')
          }
        } else if (cmd === 'DATA') {
          if (to.length === 0) send('554 5.5.1 no valid recipients')
          else {
            inData = true
            send('354 end with .')
          }
        } else if (cmd === 'RSET') {
          from = ''
          to = []
          send('250 ok')
        } else if (cmd === 'NOOP') send('250 ok')
        else if (cmd === 'QUIT') {
          send('221 bye')
          socket.end()
        } else send('502 5.5.2 not implemented')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    mails,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}

export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

/** An HTTP server recording every request; `respond` picks the status and body (default 200). */
export async function startHttpRecorder(respond: (req: ReceivedRequest, n: number) => { status: number; body?: string } = () => ({ status: 200 })): Promise<{ url: string; requests: ReceivedRequest[]; close: () => Promise<void> }> {
  const requests: ReceivedRequest[] = []
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      requests.push(r)
      const out = respond(r, requests.length)
      res.writeHead(out.status, { 'content-type': 'text/plain' })
      res.end(out.body ?? 'ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}
