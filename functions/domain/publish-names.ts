// The names the GCS and CIPD sinks are allowed to reach, parsed one way for
// both sides: the operator's allowlists (GCS_BUCKETS, CIPD_HOSTS) and the
// targets reporters name. One rule, so an entry the configuration accepts is
// one a target can equal, and no spelling a rule refuses on one side slips
// through on the other (the OCI equivalent is oci-allowlist.ts).

/** Cloud Storage bucket naming rules (https://cloud.google.com/storage/docs/buckets#naming). */
export function isBucketName(b: string): boolean {
  if (!/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(b) || b.length < 3) return false;
  if (b.includes('..') || b.includes('.-') || b.includes('-.')) return false;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(b)) return false;
  if (b.startsWith('goog') || /g[o0]{2}g[l1]e/.test(b)) return false;
  if (!b.includes('.')) return b.length <= 63;
  return b.length <= 222 && b.split('.').every((p) => p.length >= 1 && p.length <= 63);
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * A CIPD backend's host[:port] lowercased, ":443" dropped; undefined unless it
 * is a DNS name, 127.0.0.1 or [::1] (no userinfo, no other IP spellings, port
 * 1-65535 without leading zeros).
 */
export function canonicalCipdHost(text: string): string | undefined {
  const m = /^([A-Za-z0-9.-]+|\[::1\])(?::([0-9]{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const name = (m[1] ?? '').toLowerCase();
  const port = m[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535 || port.startsWith('0'))) return undefined;
  if (name !== '[::1]' && name !== '127.0.0.1') {
    if (!DNS_NAME.test(name)) return undefined;
    if (/^[0-9.]+$/.test(name) || /\.[0-9]+$/.test(name)) return undefined; // other IPv4 spellings (127.1, 2130706433)
  }
  return port === undefined || port === '443' ? name : `${name}:${port}`;
}

/** 127.0.0.1 or [::1], with or without a port: the only hosts CIPD_INSECURE_LOOPBACK reaches over http. */
export function isLoopbackHost(host: string): boolean {
  return /^(127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
}
