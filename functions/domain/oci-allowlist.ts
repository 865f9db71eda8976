// Which OCI registries the OCI sink may write to (OCI_REGISTRIES), and the
// strict parse of a reporter-named image target. Both sides are parsed the
// same way, then compared as exact strings, so no spelling of a host (case,
// trailing dot, IPv4 shorthand such as 127.1 or 0x7f.0.0.1, userinfo, an
// implicit or explicit default port) can match an entry it does not equal,
// and a repository prefix matches only at a path-segment boundary.

/** One OCI_REGISTRIES entry: host[:port] and an optional repository prefix. */
export interface OciRegistryRule {
  /** Lowercase host, with ":port" only when the entry named one. */
  registry: string;
  /** Repository path prefix ("" = the whole registry), matched whole segments at a time. */
  prefix: string;
}

/** A parsed OCI target: "<registry>/<repository>@sha256:<hex>". */
export interface OciTarget {
  registry: string;
  repository: string;
  digest: string;
}

export class OciNameError extends Error {
  readonly code = 'OCI_NAME_INVALID';
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * "host[:port]" in its one accepted spelling: a DNS name of lowercase labels,
 * or a canonical dotted-quad IPv4 address; any other all-numeric form
 * (127.1, 2130706433, 0177.0.0.1) is refused rather than resolved.
 */
export function parseRegistry(raw: string): string {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(raw);
  if (!m) throw new OciNameError(`"${clip(raw)}" is not host[:port]`);
  const [, host = '', port] = m;
  if (host.length > 253) throw new OciNameError('the registry host is longer than 253 characters');
  const labels = host.split('.');
  const numeric = labels.every((l) => /^(0x)?[0-9a-f]*$/i.test(l)) && /^[0-9]/.test(host);
  if (numeric ? !DOTTED_QUAD.test(host) : !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels.at(-1) ?? ''))
    throw new OciNameError(
      `"${clip(host)}" is not a registry host (a lowercase DNS name or a dotted-quad IPv4 address)`,
    );
  if (port !== undefined && (port.startsWith('0') || Number(port) < 1 || Number(port) > 65535))
    throw new OciNameError(`"${clip(port)}" is not a port`);
  return port === undefined ? host : `${host}:${port}`;
}

function parseRepository(raw: string, what: string): string {
  if (raw.length > 255) throw new OciNameError(`the ${what} is longer than 255 characters`);
  if (!raw.split('/').every((c) => COMPONENT.test(c)))
    throw new OciNameError(`"${clip(raw)}" is not a ${what} (lowercase components joined by "/")`);
  return raw;
}

/** "registry/repository@sha256:hex" → its parts; throws OciNameError naming the problem. */
export function parseOciTarget(target: string): OciTarget {
  const at = target.indexOf('@');
  if (at < 0) throw new OciNameError('the OCI target has no "@sha256:<digest>"');
  const name = target.slice(0, at);
  const digest = target.slice(at + 1);
  if (!DIGEST.test(digest)) throw new OciNameError(`"${clip(digest)}" is not a sha256 digest`);
  const slash = name.indexOf('/');
  if (slash < 0) throw new OciNameError(`"${clip(name)}" has no repository after the registry`);
  return {
    registry: parseRegistry(name.slice(0, slash)),
    repository: parseRepository(name.slice(slash + 1), 'repository'),
    digest,
  };
}

/** One OCI_REGISTRIES entry, "host[:port][/repository/prefix]". */
export function parseOciRule(raw: string): OciRegistryRule {
  const entry = raw.trim();
  const slash = entry.indexOf('/');
  const registry = parseRegistry(slash < 0 ? entry : entry.slice(0, slash));
  const prefix = slash < 0 ? '' : parseRepository(entry.slice(slash + 1).replace(/\/$/, ''), 'repository prefix');
  return { registry, prefix };
}

/** Whether the target is covered by a rule: same registry (and port), repository under the prefix. */
export function ociAllowed(rules: readonly OciRegistryRule[], target: OciTarget): boolean {
  return rules.some(
    (r) =>
      r.registry === target.registry &&
      (r.prefix === '' || target.repository === r.prefix || target.repository.startsWith(`${r.prefix}/`)),
  );
}

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}…` : s).replace(/[^\x20-\x7e]/g, '?');
