/**
 * The documented direction of dependencies (docs/architecture.md), as data the test reads.
 * Change the code and this file together, and redraw the picture in docs/architecture.md.
 * Globs are relative to the package folder: `*` is any name, `**` any number of folders.
 */

/** One workspace package: what it may import from its siblings. */
export interface PackageRule {
  /** Its folder, relative to the repository root. */
  dir: string;
  /** The `@sms/*` packages its published code may import (its dependencies and peers). */
  uses: string[];
  /** The `@sms/*` packages its tests may import besides (dev dependencies). */
  testsUse: string[];
  /** The source folders whose imports are checked; none of them may hold an import cycle. */
  sources: string[];
  /** Test code: free to import anything of its own package; published code never imports it. */
  tests: string[];
}

const TESTS = [
  'src/**/*.test.ts',
  'src/**/*.test.tsx',
  'src/**/*.type-test.ts',
  'src/**/test-utils/**',
];

export const PACKAGES: Record<string, PackageRule> = {
  '@sms/core': { dir: 'packages/core', uses: [], testsUse: [], sources: ['src'], tests: TESTS },
  '@sms/emulator': {
    dir: 'packages/emulator',
    uses: ['@sms/core'],
    testsUse: [],
    sources: ['src'],
    tests: TESTS,
  },
  '@sms/webhook-relay': {
    dir: 'packages/relay',
    uses: ['@sms/core'],
    testsUse: ['@sms/emulator'],
    sources: ['src', 'console-ui'],
    tests: TESTS,
  },
  // `@sms/nest/testing` starts an emulator: a peer the user installs for tests.
  '@sms/nest': {
    dir: 'packages/nest',
    uses: ['@sms/core', '@sms/emulator'],
    testsUse: [],
    sources: ['src'],
    tests: TESTS,
  },
  '@sms/nodemailer': {
    dir: 'packages/nodemailer',
    uses: ['@sms/core'],
    testsUse: ['@sms/emulator'],
    sources: ['src'],
    tests: TESTS,
  },
  // src/testing holds the drivers' conformance suite; it is not published.
  '@sms/notify': {
    dir: 'packages/notify',
    uses: ['@sms/core'],
    testsUse: ['@sms/emulator'],
    sources: ['src'],
    tests: [...TESTS, 'src/testing/**'],
  },
  '@sms/cli': {
    dir: 'packages/cli',
    uses: ['@sms/core'],
    testsUse: ['@sms/emulator'],
    sources: ['src'],
    tests: TESTS,
  },
};

/** One part of the relay: a set of files, the parts it may import, and what it shows them. */
export interface Part {
  /** Its files. Every published file of the relay belongs to exactly one part. */
  files: string[];
  /** The parts its files may import (within a part, files import each other freely). */
  uses: string[];
  /** The files other parts may import; the rest is the part's own business. Default: all. */
  surface?: string[];
}

/**
 * The relay's parts, bottom up: each uses only parts listed before it. `src/**` test files
 * and `test-utils/` are outside the rules (they may import any part; no part imports them).
 */
export const RELAY_PARTS: Record<string, Part> = {
  /** What every part may read: config, logs, metrics, ids, secrets and their masking, the version, the callback address policy. */
  shared: {
    files: ['src/shared/**'],
    uses: [],
  },
  /**
   * relay.json: each section's schema lives beside the code that reads it (`store/config.ts`,
   * `pull/config.ts`, `delivery/config.ts`, `http/config.ts`, `gateway/config.ts`) and belongs
   * here, with `src/config/` composing them (defaults, relations, `SMS_RELAY_*`, the JSON
   * Schema). Every part may read the config; the config reads no part's code.
   */
  config: { files: ['src/config/**', 'src/*/config.ts'], uses: ['shared'] },
  /** The console page's JSON contract, shared by the server and the browser bundle. */
  'console-api': { files: ['src/console/api-types.ts'], uses: [] },
  /** Events, deliveries and messages in SQLite or PostgreSQL; knows nothing above it. */
  store: {
    files: ['src/store/**'],
    uses: ['shared', 'config'],
    surface: [
      'src/store/types.ts',
      'src/store/messages.ts',
      'src/store/open.ts',
      'src/store/upkeep.ts',
      'src/store/sqlite.ts',
      'src/store/postgres.ts',
    ],
  },
  /** The pull relay: pollers, the pull thread, the journal, settling an answer into the store. */
  pull: {
    files: ['src/pull/**'],
    uses: ['shared', 'config', 'store'],
  },
  /** The delivery loop: signed webhooks with retries. */
  delivery: { files: ['src/delivery/**'], uses: ['shared', 'config', 'store'] },
  /** The HTTP router and the context routes see (which reads the pollers' state). */
  http: { files: ['src/http/**'], uses: ['shared', 'config', 'store', 'pull'] },
  /** The sending gateway: `/v1/messages`, the sender, callbacks, correlation with reports. */
  gateway: {
    files: ['src/gateway/**'],
    uses: ['shared', 'config', 'store', 'pull', 'delivery', 'http'],
    surface: ['src/gateway/routes.ts', 'src/gateway/cli.ts'],
  },
  /** The console's routes and assets (it calls the gateway's operator actions). */
  console: {
    files: ['src/console/**'],
    uses: ['shared', 'config', 'console-api', 'store', 'http', 'gateway'],
    surface: ['src/console/routes.ts'],
  },
  /** `createRelay`: composes every part. */
  relay: {
    files: ['src/relay.ts'],
    uses: ['shared', 'config', 'store', 'pull', 'delivery', 'http', 'gateway', 'console'],
  },
  /** The package's entry points: the curated exports and the `sms-relay` command. */
  entry: {
    files: ['src/index.ts', 'src/cli.ts'],
    uses: ['shared', 'config', 'store', 'pull', 'delivery', 'http', 'gateway', 'console', 'relay'],
  },
  /** The console page (a browser bundle): only the JSON contract, never server code. */
  'console-ui': { files: ['console-ui/**'], uses: ['console-api'] },
};

/** The package whose folders the parts describe. */
export const RELAY = '@sms/webhook-relay';
