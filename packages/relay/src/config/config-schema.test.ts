/**
 * relay.schema.json: the file the package ships for editors. It must equal what the zod
 * schema generates (`pnpm --filter @sms/webhook-relay run schema` rewrites it), and the
 * repository's example configs must pass both it (an independent validator, ajv) and the relay.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { relayConfigJsonSchema } from './json-schema.js';
import { parseConfig } from './load.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): unknown => JSON.parse(readFileSync(resolve(root, path), 'utf8'));
const committed = read('relay.schema.json') as Record<string, unknown>;
const EXAMPLES = ['../../examples/relay/relay.json', '../../examples/nest-app/relay.json'];
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validate = ajv.compile(committed);

describe('relay.schema.json', () => {
  it('is what the zod schema generates (run `pnpm --filter @sms/webhook-relay run schema`)', () => {
    expect(committed).toEqual(relayConfigJsonSchema());
  });

  it('ships with the package', () => {
    const pkg = read('package.json') as { files: string[]; exports: Record<string, unknown> };
    expect(pkg.files).toContain('relay.schema.json');
    expect(pkg.exports['./relay.schema.json']).toBe('./relay.schema.json');
  });

  it.each(EXAMPLES)('%s passes the JSON Schema and the relay', (path) => {
    const config = read(path) as Record<string, unknown>;
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    const env = new Proxy({} as Record<string, string>, {
      // Whatever ${VAR} an example uses, a plausible value.
      get: (_, name) =>
        /SECRET/.test(String(name))
          ? SECRET
          : /URL/.test(String(name))
            ? 'http://127.0.0.1:8080/x'
            : 'value',
    });
    expect(() => parseConfig(config, { env })).not.toThrow();
  });

  it('examples/relay/relay.json points at it', () => {
    const example = resolve(root, EXAMPLES[0]!);
    const { $schema } = read(EXAMPLES[0]!) as { $schema: string };
    expect(resolve(dirname(example), $schema)).toBe(resolve(root, 'relay.schema.json'));
  });

  it('tells an editor what the relay would refuse', () => {
    const valid = read(EXAMPLES[0]!) as Record<string, unknown>;
    const errors = (config: unknown) => {
      validate(config);
      return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
    };
    expect(errors({ ...valid, extra: 1 })).toContain(' additionalProperties');
    expect(errors({ ...valid, store: {} })).toContain('/store oneOf');
    expect(
      errors({ ...valid, targets: [{ name: 'a', url: 'http://x/', secret: 'hunter2' }] }),
    ).toContain('/targets/0/secret anyOf');
    expect(errors({ ...valid, delivery: { retrySchedule: ['soon'] } })).toContain(
      '/delivery/retrySchedule/0 anyOf',
    );
    expect(errors({ ...valid, http: { port: 70000 } })).toContain('/http anyOf');
    // `${VAR}` stands for a value the relay checks once it is substituted.
    const reference = '$' + '{RETRY}';
    expect(errors({ ...valid, delivery: { retrySchedule: [reference, '5m', 100] } })).toEqual([]);
  });
});
