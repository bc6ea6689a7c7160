// Module hooks (node:module register) for test-nest-setup.ts: reports every URL the ESM loader
// resolves, so the setup can see which Nest a test file really loaded. Nest 12 is ESM-only,
// so it never shows in require.cache.
let port;
export function initialize(data) {
  port = data.port;
}
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/@nestjs/')) port.postMessage(resolved.url);
  return resolved;
}
