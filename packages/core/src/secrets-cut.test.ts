import { expect, it } from 'vitest';
import { excerptOf } from './protocol.js';
import { maskSecrets } from './secrets.js';

it('masks the start of a secret that an excerpt cut short', () => {
  const secret = 'Top Secret&99 密码';
  for (const spelling of ['Top%20Secret%2699', 'Top+Secret%2699', 'Top Secret&99']) {
    for (let keep = 3; keep < spelling.length; keep++) {
      const body = `<html>${'x'.repeat(190 - keep)} password=${spelling}</html>`;
      const excerpt = excerptOf(body.slice(0, body.indexOf(spelling) + keep) + 'y'.repeat(400));
      const cut = `${'x'.repeat(190 - keep)} password=${spelling.slice(0, keep)}…`;
      expect(maskSecrets(cut, [secret])).toBe(`${'x'.repeat(190 - keep)} password=***…`);
      expect(maskSecrets(excerpt, [secret])).not.toContain(spelling.slice(0, Math.max(keep, 4)));
    }
  }
  // Text that merely ends like a secret's first two characters is left alone.
  expect(maskSecrets('To…', [secret])).toBe('To…');
  expect(maskSecrets('no ellipsis Top%20Se', [secret])).toBe('no ellipsis Top%20Se');
});
