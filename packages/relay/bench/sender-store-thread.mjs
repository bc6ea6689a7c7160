// bench/sender.mjs's SQLite store on a thread of its own: answers each call by message.
import { parentPort, workerData } from 'node:worker_threads';

const { sqliteStore } = await import(workerData.bundle);
const store = await sqliteStore({ path: workerData.path });
await store.init();
parentPort.on('message', async ({ seq, op, args }) => {
  try {
    parentPort.postMessage({ seq, result: await store.messages[op](...args) });
  } catch (error) {
    parentPort.postMessage({ seq, error: String(error?.message ?? error) });
  }
});
parentPort.postMessage('ready');
