// Subject name patterns: `*` matches within one path segment (no "/"), `**`
// matches across segments; every other character is literal, and case counts.
// A pattern covers a name as written: a name that a consumer could read as
// another path (dot segments, a backslash, a percent-encoded "/", "\" or ".",
// an empty segment, control characters or spaces) is covered by no pattern,
// so `gs://release/*` can never admit `gs://release/../staging/app`.

export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*' && pattern.charAt(i + 1) === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else source += c.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

/** Compiled patterns, kept: a policy's few patterns are applied to every envelope. Bounded, as patterns may come from files. */
const compiled = new Map<string, RegExp>();

/** Why no pattern covers this subject name (undefined: patterns decide). */
export function uncoverableName(name: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: names with control characters are refused here
  if (/[\s\u0000-\u001f\u007f-\u009f]/u.test(name)) return 'it holds a control character or a space';
  if (name.includes('\\')) return 'it holds a backslash';
  if (/%(?:2f|5c|2e)/i.test(name)) return 'it holds a percent-encoded "/", "\\" or "."';
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(name)?.[0] ?? '';
  const segments = name.slice(scheme.length).split('/');
  if (segments.some((seg) => seg === '.' || seg === '..')) return 'it has a "." or ".." path segment';
  if (segments.some((seg) => seg === '')) return 'it has an empty path segment';
  return undefined;
}

export function matchesAny(name: string, patterns: readonly string[]): boolean {
  if (uncoverableName(name) !== undefined) return false;
  return patterns.some((p) => {
    let re = compiled.get(p);
    if (!re) {
      if (compiled.size >= 1024) compiled.clear();
      re = globToRegExp(p);
      compiled.set(p, re);
    }
    return re.test(name);
  });
}
