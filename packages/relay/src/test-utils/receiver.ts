import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed by the `standardwebhooks` package, or null if verification failed. */
  event: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  at: number;
}

export type Responder = (request: Received) => {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
  /** The answer's body (default none). */
  body?: string;
};

/** A local webhook receiver that verifies every request with the `standardwebhooks` package. */
export async function startReceiver(options: {
  secret: string;
  port?: number;
  respond?: Responder;
}) {
  const verifier = new Webhook(options.secret);
  const received: Received[] = [];
  let respond: Responder = options.respond ?? (() => ({ status: 204 }));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let event: Received['event'] = null;
      try {
        event = verifier.verify(body, req.headers as Record<string, string>) as Received['event'];
      } catch {
        event = null;
      }
      const entry: Received = {
        id: String(req.headers['webhook-id']),
        headers: req.headers,
        body,
        event,
        at: Date.now(),
      };
      received.push(entry);
      const answer = respond(entry);
      const send = () => {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/sms`,
    port,
    received,
    /** Only the requests whose signature verified. */
    verified: () => received.filter((r) => r.event !== null),
    setResponder(next: Responder) {
      respond = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
