import type { RelayConfig } from './schema.js';

/** The secret values of a config, for log redaction. */
export function secretsOf(config: RelayConfig): string[] {
  const values = [
    ...config.accounts.map((a) => a.password),
    // A signing key is as secret without its whsec_ prefix.
    ...config.targets
      .flatMap((t) => t.secrets)
      .concat(config.gateway.callbackSecret ?? [])
      .flatMap((s) => [s, s.slice('whsec_'.length)]),
  ];
  // A token in a webhook or platform URL (`?token=...`) authenticates as a password would.
  // Short values (`v=2`, `format=json`) are settings, and masking them would garble logs.
  for (const url of [
    ...config.targets.map((t) => t.url),
    ...config.accounts.map((a) => a.baseUrl),
  ]) {
    try {
      for (const value of new URL(url).searchParams.values()) {
        if (value.length >= 8) values.push(value);
      }
    } catch {}
  }
  if (config.http?.token) values.push(config.http.token);
  if ('postgres' in config.store) {
    try {
      const password = decodeURIComponent(new URL(config.store.postgres).password);
      if (password) values.push(password);
    } catch {}
  }
  return values;
}
