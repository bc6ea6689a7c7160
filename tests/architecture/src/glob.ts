/** A glob as a RegExp: `**` spans folders, `*` stays within one name. */
export function globRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      // `a/**/b` also matches `a/b`; a trailing `**` matches everything below.
      if (glob[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') source += '[^/]*';
    else source += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Whether `path` matches one of `globs`. */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globRegExp(glob).test(path));
}
