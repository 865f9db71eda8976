// Whether two URIs name the same source repository. A rule about a repository
// must see every checkout of it, however the build spelled its URI: otherwise
// a second checkout (on another branch) under another spelling would escape
// the rule. So the comparison ignores what does not change the repository:
// "git+", the scheme among https/http/ssh/git, a user name, a port, letter
// case, trailing slashes and one trailing ".git".

const REPO_SCHEMES = new Set(['https:', 'http:', 'ssh:', 'git:']);

/** The repository's identity (host and path), or undefined when the URI is not a git-style URL. */
export function repositoryKey(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri.replace(/^git\+/, ''));
  } catch {
    return undefined;
  }
  if (!REPO_SCHEMES.has(url.protocol) || !url.hostname || url.search || url.hash) return undefined;
  const path = url.pathname.replace(/\/+$/, '').replace(/\.git$/i, '');
  return `${url.hostname}${path}`.toLowerCase();
}

/** Same repository (see above); URIs that are not git-style URLs are compared as written, without "git+". */
export function sameRepository(a: string, b: string): boolean {
  const ka = repositoryKey(a);
  const kb = repositoryKey(b);
  if (ka !== undefined || kb !== undefined) return ka === kb;
  return a.replace(/^git\+/, '') === b.replace(/^git\+/, '');
}
