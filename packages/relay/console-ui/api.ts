/** Why a call failed: the token was refused (sign in again). */
export class Unauthorized extends Error {}

/** Calls the console API with the bearer token (relative URLs: works behind a path prefix). */
export async function api<T>(
  token: string,
  path: string,
  method: 'GET' | 'POST' = 'GET',
): Promise<T> {
  const response = await fetch(`api/console/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    cache: 'no-store',
  });
  if (response.status === 401) throw new Unauthorized('the token was refused');
  const body = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}
