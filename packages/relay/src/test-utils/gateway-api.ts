import { waitFor } from './receiver.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field in assertions
export type Json = Record<string, any>;

/** A running relay's address (`Relay['url']`). */
interface Reachable {
  readonly url: string | null;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: Json;
}

/** Calls a relay's HTTP API with a bearer token; `body` is sent as JSON. */
export function relayApi(token: string) {
  return async (
    relay: Reachable,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer> => {
    const response = await fetch(`${relay.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Json) : {},
    };
  };
}

/**
 * Polls `GET /v1/messages/:id` until `done` holds; a timeout names the last answer seen.
 */
export function messageUntil(token: string) {
  const api = relayApi(token);
  return async (relay: Reachable, id: string, done: (m: Json) => boolean): Promise<Json> => {
    let last: Json = {};
    await waitFor(
      async () => {
        last = (await api(relay, 'GET', `/v1/messages/${id}`)).body;
        return done(last);
      },
      10_000,
      `message ${id}`,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
    });
    return last;
  };
}
