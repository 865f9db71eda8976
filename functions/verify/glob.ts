// Subject name patterns: `*` matches within one path segment (no "/"), `**`
// matches across segments; every other character is literal.

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

export function matchesAny(name: string, patterns: readonly string[]): boolean {
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
