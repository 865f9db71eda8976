// `report git --from-checkout <dir>`: what a step checked out, read from the
// checkout with git plumbing: the origin URL (credentials stripped; scp-style
// "git@host:path" written as ssh://), the HEAD commit, and the refs that
// contain it (local branches and tags, and origin's branches as refs/heads/…,
// which is how a CI checkout with a detached HEAD knows its branch).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UsageError } from './exit-codes.js';

const run = promisify(execFile);
const MAX_REFS = 64;

export interface Checkout {
  repo: string;
  commit: string;
  refs: string[];
}

async function git(dir: string, args: string[]): Promise<string> {
  try {
    return (await run('git', ['-C', dir, ...args], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
  } catch (err) {
    const e = err as { code?: string | number; stderr?: string };
    if (e.code === 'ENOENT') throw new UsageError('--from-checkout needs git on the PATH');
    throw new UsageError(
      `--from-checkout ${dir}: git ${args[0]} failed: ${(e.stderr ?? String(err)).trim().split('\n')[0]}`,
    );
  }
}

export async function readCheckout(dir: string, remote = 'origin'): Promise<Checkout> {
  const url = await git(dir, ['config', '--get', `remote.${remote}.url`]).catch(() => {
    throw new UsageError(`--from-checkout ${dir}: the checkout has no "${remote}" remote; pass --repo instead`);
  });
  const commit = await git(dir, ['rev-parse', '--verify', 'HEAD^{commit}']);
  const refNames = (
    await git(dir, [
      'for-each-ref',
      '--contains',
      commit,
      '--format=%(refname)',
      'refs/heads',
      'refs/tags',
      `refs/remotes/${remote}`,
    ])
  )
    .split('\n')
    .filter(Boolean);
  const refs = new Set<string>();
  for (const r of refNames) {
    if (r === `refs/remotes/${remote}/HEAD`) continue;
    refs.add(r.startsWith(`refs/remotes/${remote}/`) ? `refs/heads/${r.slice(`refs/remotes/${remote}/`.length)}` : r);
  }
  return { repo: cleanRemoteUrl(url), commit, refs: [...refs].sort().slice(0, MAX_REFS) };
}

/** A remote URL fit to be reported: no password or token, scp-style made a URL. */
export function cleanRemoteUrl(raw: string): string {
  const scp = /^([A-Za-z0-9._-]+@)?([A-Za-z0-9.-]+):(?!\/\/)(.+)$/.exec(raw);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    const [, user = '', host, path = ''] = scp; // host and path: the regex requires both
    return `ssh://${user}${host}/${path.replace(/^\/+/, '')}`;
  }
  try {
    const url = new URL(raw);
    url.password = '';
    if (url.protocol !== 'ssh:') url.username = ''; // an https user name is a credential too (x-access-token, oauth2)
    url.search = '';
    url.hash = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return raw;
  }
}
