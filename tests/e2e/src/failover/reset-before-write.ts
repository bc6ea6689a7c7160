/**
 * A reseller's front door that resets every connection before the client could write its
 * request: a TCP server in a worker thread that answers each accepted connection with a RST.
 *
 * To make "before the request was written" hold every time (not by a race), `hold()` blocks
 * the test's own thread (Atomics.wait) from right after the client's connect() until the
 * worker has reset that connection: the client sees the reset when it learns the connection
 * opened, before undici can write a byte. The worker counts the bytes it ever received: the
 * oracle that nothing left.
 */
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const state = new Int32Array(workerData.shared);
const server = net.createServer((socket) => {
  socket.on('data', (chunk) => Atomics.add(state, 1, chunk.length));
  socket.on('error', () => {});
  socket.resetAndDestroy();
  Atomics.add(state, 0, 1);
  Atomics.notify(state, 0);
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

export interface ResetBeforeWrite {
  url: string;
  /** Connections reset so far. */
  resets(): number;
  /** Request bytes that ever reached this server (0: nothing was sent). */
  bytesReceived(): number;
  /**
   * Call synchronously right after starting a send through this address: lets the client's
   * connect() go out, then blocks this thread until the worker has reset one more connection.
   */
  hold(): void;
  close(): Promise<void>;
}

export async function startResetBeforeWrite(): Promise<ResetBeforeWrite> {
  const shared = new SharedArrayBuffer(8);
  const state = new Int32Array(shared);
  const worker = new Worker(WORKER, { eval: true, workerData: { shared } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    resets: () => Atomics.load(state, 0),
    bytesReceived: () => Atomics.load(state, 1),
    hold() {
      const before = Atomics.load(state, 0);
      // net.connect() issues connect(2) on the next tick: wait behind it, then block the
      // thread so the client cannot process the open connection before the reset lands.
      process.nextTick(() =>
        process.nextTick(() => {
          const deadline = Date.now() + 10_000;
          while (Atomics.load(state, 0) === before && Date.now() < deadline)
            Atomics.wait(state, 0, before, 100);
        }),
      );
    },
    async close() {
      worker.postMessage('close');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}
