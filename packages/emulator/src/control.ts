/** The JSON control API under `/__emulator/`: the same powers as the programmatic handle. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Emulator, Fault, Quirks } from './types.js';

export interface ControlContext {
  getFault: () => Fault | null;
  getQuirks: () => Quirks;
  readBody: (req: IncomingMessage) => Promise<Buffer>;
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
  const [resource, name] = route.replace(/\/+$/, '').split('/').map(decodeURIComponent);
  try {
    switch (`${method} ${resource}`) {
      case 'GET messages':
        return reply(res, 200, emulator.sent(account ? { account } : undefined));
      case 'GET requests':
        return reply(res, 200, emulator.requests());
      case 'GET accounts':
        return reply(res, 200, name ? emulator.account(name) : emulator.accounts());
      case 'POST accounts': {
        const body = await jsonBody(req, context);
        const states = many<Parameters<Emulator['setAccount']>[0]>(body).map((update) =>
          emulator.setAccount(update),
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
        : /unknown account/.test(String(error))
          ? 404
          : 400;
    return reply(res, status, { error: error instanceof Error ? error.message : String(error) });
  }
}
