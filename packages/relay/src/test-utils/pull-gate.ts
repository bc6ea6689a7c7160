import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/**
 * A proxy between the relay and the platform that can hold back new pulls. A pull-once
 * platform forgets records once it answers, so a process killed between the answer and its
 * commit loses them, whatever it does: no client can close that window. The crash tests
 * close the gate, wait until every record already handed out is committed, and only then
 * kill: so every other moment (deliveries, claims, acknowledgements) is fair game.
 */
export async function startPullGate(platformUrl: string) {
  let open = true;
  let inFlight = 0;
  let forwardedRecords = 0;
  const held: Array<() => void> = [];

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    if (req.socket.destroyed) return;
    inFlight++;
    try {
      const answer = await request(`${platformUrl}${req.url}`, {
        method: req.method as 'POST',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
        },
        body,
      });
      const bytes = Buffer.from(await answer.body.arrayBuffer());
      const text = bytes.toString('latin1');
      const records =
        (text.match(/<statusbox>/g)?.length ?? 0) + (text.match(/<callbox>/g)?.length ?? 0);
      res.writeHead(answer.statusCode, {
        'content-type': String(answer.headers['content-type'] ?? 'text/xml'),
      });
      res.end(bytes);
      if (answer.statusCode === 200) forwardedRecords += records;
    } finally {
      inFlight--;
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const go = () => void forward(req, res, Buffer.concat(chunks)).catch(() => res.destroy());
      if (open) go();
      else held.push(go);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Records handed to the relay in 200 answers so far. */
    get forwardedRecords() {
      return forwardedRecords;
    },
    get inFlight() {
      return inFlight;
    },
    hold() {
      open = false;
    },
    release() {
      open = true;
      for (const go of held.splice(0)) go();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
