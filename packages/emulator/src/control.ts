/**
 * The JSON control API under `/__emulator/`: the same powers as the programmatic handle,
 * plus the inbox page's event stream and assets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AccountState, Emulator, Fault, Quirks } from './types.js';

export interface ControlContext {
  getFault: () => Fault | null;
  getQuirks: () => Quirks;
  readBody: (req: IncomingMessage) => Promise<Buffer>;
  /** Host names allowed besides IP addresses and localhost (lower-case). */
  allowedHosts: readonly string[];
  /** `GET events`: opens a server-sent events stream of inbox snapshots. */
  openEvents: (req: IncomingMessage, res: ServerResponse) => void;
  /** `GET inbox/<name>`: serves one of the page's assets; false if there is no such asset. */
  serveAsset: (res: ServerResponse, name: string) => boolean;
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value ?? null), 'utf8');
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}

async function jsonBody(req: IncomingMessage, context: ControlContext): Promise<unknown> {
  const raw = (await context.readBody(req)).toString('utf8').trim();
  if (raw === '') return null;
  try {
    return JSON.parse(raw);
  } catch {
    throw new ControlError(400, 'body is not JSON');
  }
}

function many<T>(value: unknown): T[] {
  if (value === null || typeof value !== 'object')
    throw new ControlError(400, 'expected an object or an array');
  return (Array.isArray(value) ? value : [value]) as T[];
}

/** What the control API shows for a password: that there is one, not what it is. */
export const MASKED_PASSWORD = '••••';

export const mask = (state: AccountState): AccountState => ({
  ...state,
  password: MASKED_PASSWORD,
});

/** `example.com:8080` → `example.com`, `[::1]:8080` → `::1`. */
function hostName(host: string): string {
  return host
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
}

/**
 * Why a request must not drive the emulator (or see its inbox), if it must not. The
 * control API resets, injects and reads accounts and messages, and a developer's browser
 * visits other sites while it runs: a page elsewhere can fire a cross-origin `text/plain`
 * or form POST without any CORS preflight. So a browser request from another origin is
 * refused (`Origin`, and `Sec-Fetch-Site` where browsers send it), and so is any request
 * naming a host that is neither an IP address, localhost nor in `allowedHosts`: a page
 * whose name was pointed at this address (DNS rebinding) is same-origin with it, and a
 * same-origin GET or EventSource carries no `Origin`, but the `Host` header still names
 * the page's own host. Programs (curl, tests, SDKs) send no `Origin` and use the address.
 */
export function refusal(req: IncomingMessage, allowedHosts: readonly string[]): string | undefined {
  const host = req.headers.host ?? '';
  const name = hostName(host);
  if (
    name !== '' &&
    isIP(name) === 0 &&
    name !== 'localhost' &&
    !name.endsWith('.localhost') &&
    !allowedHosts.includes(name)
  ) {
    return `a request to the name ${name} (not in allowedHosts)`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return `a request from origin ${origin}`;
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `a ${site} browser request`;
  }
  return undefined;
}

/** Only `application/json` bodies: the types a page may POST without a preflight are refused. */
function isJson(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

/**
 * What `GET /__emulator/` answers: every route, as the README's table lists them, so the
 * address the CLI prints at start shows what is there instead of a 404.
 */
export const CONTROL_ROUTES: readonly string[] = [
  'GET messages[?account=]',
  'GET requests',
  'GET accounts',
  'GET accounts/<name>',
  'POST accounts',
  'GET reports?account=',
  'GET replies?account=',
  'POST reports',
  'POST replies',
  'GET fault',
  'POST fault',
  'DELETE fault',
  'GET quirks',
  'POST quirks',
  'POST flush',
  'POST reset',
  'POST messages/<taskId>/deliver',
  'POST messages/<taskId>/fail',
  'GET events',
];

/** Runs one control request; `route` is the path after `/__emulator/`. */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  query: string,
  emulator: Emulator,
  context: ControlContext,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const search = new URLSearchParams(query);
  const account = search.get('account') ?? undefined;
  const [resource, name, verb] = route.replace(/\/+$/, '').split('/').map(decodeURIComponent);
  try {
    const refused = refusal(req, context.allowedHosts);
    if (refused) {
      throw new ControlError(
        403,
        `${refused} is refused: the control API answers only its own origin (or no browser)`,
      );
    }
    if (method === 'POST' && !isJson(req)) {
      throw new ControlError(
        415,
        'send Content-Type: application/json (other types are refused so that no web page can drive the emulator)',
      );
    }
    if (method === 'POST' && resource === 'messages' && name !== undefined) {
      if (verb !== 'deliver' && verb !== 'fail') {
        throw new ControlError(404, `no control route POST /__emulator/${route}`);
      }
      const body = (await jsonBody(req, context)) ?? {};
      if (typeof body !== 'object' || Array.isArray(body))
        throw new ControlError(400, 'expected an object: { "mobile"?, "errorCode"? }');
      const options = body as { mobile?: unknown; errorCode?: unknown };
      const settle = {
        ...(options.mobile === undefined ? {} : { mobile: String(options.mobile) }),
        ...(options.errorCode === undefined ? {} : { errorCode: String(options.errorCode) }),
      };
      return reply(
        res,
        200,
        verb === 'deliver' ? emulator.deliverNow(name, settle) : emulator.failNow(name, settle),
      );
    }
    if (method === 'GET' && resource === 'inbox' && name !== undefined) {
      if (context.serveAsset(res, name)) return;
      throw new ControlError(404, `no inbox asset ${name}`);
    }
    switch (`${method} ${resource}`) {
      case 'GET ':
        return reply(res, 200, {
          controlApi: '/__emulator/',
          routes: CONTROL_ROUTES,
          docs: 'https://github.com/sms-ts/sms/blob/main/packages/emulator/README.md#control-api-json-under-__emulator',
        });
      case 'GET events':
        return context.openEvents(req, res);
      case 'GET messages':
        return reply(res, 200, emulator.sent(account ? { account } : undefined));
      case 'GET requests':
        return reply(res, 200, emulator.requests());
      case 'GET accounts':
        return reply(res, 200, name ? mask(emulator.account(name)) : emulator.accounts().map(mask));
      case 'POST accounts': {
        const body = await jsonBody(req, context);
        const states = many<Parameters<Emulator['setAccount']>[0]>(body).map((update) =>
          mask(emulator.setAccount(update)),
        );
        return reply(res, 200, Array.isArray(body) ? states : states[0]);
      }
      case 'GET reports':
        if (!account) throw new ControlError(400, 'add ?account=<name>');
        return reply(res, 200, emulator.pendingReports(account));
      case 'POST reports': {
        const inputs = many<Parameters<Emulator['injectReport']>[0]>(await jsonBody(req, context));
        return reply(
          res,
          200,
          inputs.map((input) => emulator.injectReport(input)),
        );
      }
      case 'GET replies':
        if (!account) throw new ControlError(400, 'add ?account=<name>');
        return reply(res, 200, emulator.pendingReplies(account));
      case 'POST replies': {
        const inputs = many<Parameters<Emulator['injectReply']>[0]>(await jsonBody(req, context));
        return reply(
          res,
          200,
          inputs.map((input) => emulator.injectReply(input)),
        );
      }
      case 'GET fault':
        return reply(res, 200, context.getFault());
      case 'POST fault':
        emulator.setFault((await jsonBody(req, context)) as Fault | null);
        return reply(res, 200, context.getFault());
      case 'DELETE fault':
        emulator.setFault(null);
        return reply(res, 200, null);
      case 'GET quirks':
        return reply(res, 200, context.getQuirks());
      case 'POST quirks':
        emulator.setQuirks((await jsonBody(req, context)) as Quirks | boolean | null);
        return reply(res, 200, context.getQuirks());
      case 'POST flush':
        emulator.flush();
        return reply(res, 200, { ok: true });
      case 'POST reset':
        emulator.reset();
        return reply(res, 200, { ok: true });
      default:
        throw new ControlError(404, `no control route ${method} /__emulator/${route}`);
    }
  } catch (error) {
    const status =
      error instanceof ControlError
        ? error.status
        : /unknown (account|task)/.test(String(error))
          ? 404
          : 400;
    return reply(res, status, { error: error instanceof Error ? error.message : String(error) });
  }
}
