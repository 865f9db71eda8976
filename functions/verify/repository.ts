// Whether two URIs name the same source repository. A rule about a repository
// must see every checkout of it, however the build spelled its URI: otherwise
// a second checkout (on another branch) under another spelling would escape
// the rule. So the comparison is on a key that ignores what does not change
// the repository: "git+", the scheme among https/http/ssh/git, git's scp-like
// form (git@host:path), a user name, a port, letter case, a trailing dot on the
// host, dot segments, empty segments, percent-encoded unreserved characters,
// trailing slashes and one trailing ".git". What it cannot know is which
// different names a server aliases (www.github.com, a renamed repository): a
// policy names the repository as the builds spell it.

const REPO_SCHEMES = new Set(['https:', 'http:', 'ssh:', 'git:']);

/**
 * URIs that URL parsing leaves as they are (a lowercase DNS name, no user,
 * port, percent sign, backslash, dot segment, query or fragment): their key
 * is read off directly, three times faster than a URL parse. Everything else
 * is parsed (parsedRepositoryKey); both give the same key for these.
 */
const PLAIN =
  /^(?:git\+)?(?:https?|ssh|git):\/\/((?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*)((?:\/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)*)\/*$/;

/** The repository's identity (host and path), or undefined when the URI is not a git-style URL. */
export function repositoryKey(uri: string): string | undefined {
  const plain = PLAIN.exec(uri);
  return plain ? keyOf(plain[1] ?? '', plain[2] ?? '') : parsedRepositoryKey(uri);
}

/**
 * git's scp-like syntax, `[user@]host:path` (git@github.com:example/app.git):
 * a colon before any slash and no "://". git reads it as ssh://[user@]host/path,
 * so it is the same repository and must meet the same rules; left out, a
 * checkout spelled this way would escape a ref rule. (On a server where the
 * path is relative to a home directory, `host:app` and `ssh://host/app` could
 * differ; the hosts that serve git by name, GitHub, GitLab, Bitbucket, do not.)
 */
const SCP_LIKE = /^(?:[^@/:\s]+@)?([A-Za-z0-9.-]+):(?!\/\/)([^\s]*)$/;

function scpLikeAsUrl(uri: string): string | undefined {
  const m = SCP_LIKE.exec(uri);
  if (!m || m[2] === undefined || m[2] === '') return undefined;
  // A one-letter "host" is a Windows drive (C:repo), which git reads as a local path.
  if ((m[1] ?? '').length < 2) return undefined;
  return `ssh://${m[1]}/${m[2].replace(/^\/+/, '')}`;
}

/** repositoryKey by a URL parse (WHATWG, as git's curl reads it): for every URI. */
export function parsedRepositoryKey(uri: string): string | undefined {
  // The URL parser drops leading and trailing controls and spaces, and tabs and newlines anywhere; so
  // does this, before "git+" is looked for, so that no such spelling hides a checkout from its rule.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is this pattern's job
  const cleaned = uri.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  // The URL parser reads "\\" as "/" in https URLs, curl (and so git) does not: "https://evil\\@github.com/…"
  // is evil's to one and github.com's to the other. Such a URI names no repository surely (see mayNameRepository).
  if (cleaned.includes('\\')) return undefined;
  const bare = withoutGitPlus(cleaned);
  const url = URL.parse(scpLikeAsUrl(bare) ?? bare);
  if (!url || !REPO_SCHEMES.has(url.protocol) || !url.hostname || url.search || url.hash) return undefined;
  const path = url.pathname.includes('%') ? url.pathname.replace(/%([0-9A-Fa-f]{2})/g, unreserved) : url.pathname;
  return keyOf(url.hostname, path);
}

function keyOf(host: string, pathname: string): string {
  // Empty segments name nothing ("//example/app" is example/app or no repository at all).
  let path = pathname.replace(/\/{2,}/g, '/');
  while (path.endsWith('/')) path = path.slice(0, -1);
  path = path.toLowerCase();
  if (path.endsWith('.git')) path = path.slice(0, -4);
  while (path.endsWith('/')) path = path.slice(0, -1);
  // "github.com." is the same DNS name as "github.com" (fully qualified).
  const name = host.toLowerCase();
  return `${name.endsWith('.') ? name.slice(0, -1) : name}${path}`;
}

/** A percent-encoded unreserved character (RFC 3986 2.3) decoded; any other escape kept. */
function unreserved(encoded: string, hex: string): string {
  const c = String.fromCharCode(Number.parseInt(hex, 16));
  return /[A-Za-z0-9._~-]/.test(c) ? c : encoded;
}

const withoutGitPlus = (uri: string) => (uri.startsWith('git+') ? uri.slice(4) : uri);

/** Same repository (see above); URIs that are not git-style URLs are compared as written, without "git+". */
export function sameRepository(a: string, b: string): boolean {
  return repositoryMatcher(b)(a);
}

/** A test for "same repository as `uri`", with `uri`'s key computed once. */
export function repositoryMatcher(uri: string): (other: string) => boolean {
  const key = repositoryKey(uri);
  const bare = withoutGitPlus(uri);
  const last = key === undefined || !key.includes('/') ? '' : key.slice(key.lastIndexOf('/') + 1);
  // A cheap necessary condition, so most dependencies of a statement cost no key: a URI whose key
  // is `key` holds the key's last path segment as written, up to letter case, unless it has a
  // percent sign (decoded) or a tab or newline (dropped) in it. Path characters are otherwise kept
  // as they are or percent-encoded, never turned into others. Not used for a segment that is empty
  // or percent-encoded itself, nor for a host (the host is IDNA-mapped).
  const prefilter = last !== '' && !last.includes('%');
  return (other) => {
    if (prefilter && !/[%\t\n\r]/.test(other) && !other.toLowerCase().includes(last)) return false;
    const k = repositoryKey(other);
    if (key !== undefined || k !== undefined) return key === k;
    return withoutGitPlus(other) === bare;
  };
}

/**
 * For a URI that is not a readable repository URL (no key: a backslash, a
 * query, an unknown scheme): whether it mentions `uri`'s host and last path
 * segment, so it might be a checkout of it under a spelling another parser
 * reads differently. A ref rule holds such a dependency to its refs too
 * (fail closed); it never counts as the repository being present.
 */
export function mayNameRepository(uri: string): (other: string) => boolean {
  const key = repositoryKey(uri);
  if (key === undefined || !key.includes('/')) return () => false;
  const host = key.slice(0, key.indexOf('/'));
  const last = key.slice(key.lastIndexOf('/') + 1);
  return (other) => {
    const text = other
      .toLowerCase()
      .replace(/%([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    // The text test first: it is cheap, and most dependencies fail it.
    return text.includes(host) && text.includes(last) && repositoryKey(other) === undefined;
  };
}
