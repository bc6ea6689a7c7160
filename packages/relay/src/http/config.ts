import * as z from 'zod';
import { flag, int, isObject, need, text } from '../config/fields.js';

// relay.json's `http`: health, metrics, and with a token the console and the API.

export const httpSchema = z
  .strictObject(
    {
      port: int(0, 'Port; 0 picks a free one')
        .max(65535, { error: 'must be at most 65535' })
        .default(9464),
      host: text('Address to bind (0.0.0.0: every interface)').default('0.0.0.0'),
      token: z
        .string({ error: need('a string of at least 16 characters') })
        .min(16, { error: 'must be at least 16 characters' })
        .meta({
          description:
            // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${VAR} syntax
            'Bearer token for the console (/) and the API (/api, /v1); without one they are off. Keep it out of the file: set SMS_RELAY_HTTP_TOKEN, or write "${RELAY_TOKEN}"',
        })
        .optional(),
      protectMetrics: flag(
        '/metrics asks for the token too (default: open to scrapers); needs token',
      ).default(false),
    },
    { error: need('an object') },
  )
  .meta({
    description:
      '/healthz, /readyz, Prometheus /metrics, and with a token the console and API; omit or null to run without',
  });

/** `protectMetrics` needs a token. */
export function httpRelations(
  input: Record<string, unknown>,
): Array<{ path: PropertyKey[]; message: string }> {
  const http = input['http'];
  if (isObject(http) && http['protectMetrics'] === true && http['token'] === undefined) {
    return [
      {
        path: ['http', 'protectMetrics'],
        message: 'needs http.token (without one, /metrics would answer 401 to everyone)',
      },
    ];
  }
  return [];
}
