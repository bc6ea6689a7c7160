// What bench/sender.mjs builds from src (they are not part of the package's API).
export { GatewaySender } from '../src/gateway/sender.js';
export { sqliteStore } from '../src/store/sqlite.js';
