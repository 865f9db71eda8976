// Verifying provenance with trust material handed in (no I/O here): the DSSE
// signature, the statement and predicate types, the subject digest, and
// optional policy (builder id, reporting identity, source repository, allowed
// refs). The envelope is untrusted input of any shape: every field is checked
// before it is used, nothing in it can throw, and every failure is one line.
// Strings from the envelope are escaped before they reach a message (see
// printable), so a hostile envelope cannot drive the user's terminal.
import { constants, createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { IN_TOTO_PAYLOAD_TYPE, pae } from './dsse.js';
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE, type Statement } from './statement.js';

export interface VerifyPolicy {
  /** sha256 hex of the artifact the provenance must name. */
  digest: string;
  builderId?: string;
  /** The identity that reported the task must be one of these emails (internalParameters.reporter). */
  reporters?: string[];
  /** Repository that must appear among the git dependencies (with or without "git+"). */
  sourceUri?: string;
  /** The source repository's commit must be on one of these refs (e.g. refs/heads/main). */
  sourceRefs?: string[];
}

/** A public key the verifier trusts, and the name to report when it verifies. */
export interface TrustedKey {
  /** The key id from the trust material (e.g. the KMS key version), else the key's fingerprint. */
  name: string;
  key: KeyObject;
}

export interface VerifyResult {
  ok: boolean;
  failures: string[];
  statement?: Statement;
  /** The trusted key a signature verified with (only that one). */
  verifiedBy?: TrustedKey;
}

const PEM_BLOCK = /(?:^[ \t]*#[ \t]*(\S+)[^\n]*\n)?(-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----)/gm;

/**
 * Every public key in a PEM text (one file may hold several, e.g. across a key
 * rotation). A "# <key id> ..." line right above a block (as `provenance keys`
 * writes) names the key; otherwise it is named by its SPKI sha256.
 */
export function parsePublicKeys(pemText: string): TrustedKey[] {
  // The block (group 2) is not optional in PEM_BLOCK: every match has one.
  return [...pemText.matchAll(PEM_BLOCK)].flatMap(([, name, pem]) => {
    if (pem === undefined) return [];
    const key = createPublicKey(pem);
    return [{ name: name ?? fingerprint(key), key }];
  });
}

export function fingerprint(key: KeyObject): string {
  return `sha256:${createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
}

/** keys: PEM text (one or more public keys) or keys parsed once with parsePublicKeys. */
export function verifyEnvelope(envelope: unknown, keys: string | TrustedKey[], policy: VerifyPolicy): VerifyResult {
  let trusted: TrustedKey[];
  try {
    trusted = typeof keys === 'string' ? parsePublicKeys(keys) : keys;
  } catch {
    trusted = [];
  }
  if (trusted.length === 0) return { ok: false, failures: ['the key file holds no PEM public key'] };
  if (!isObject(envelope))
    return { ok: false, failures: [`the entry is ${describeType(envelope)}, not a DSSE envelope`] };

  const failures: string[] = [];
  const { payloadType, payload, signatures } = envelope;
  if (typeof payloadType !== 'string') return { ok: false, failures: ['payloadType is missing or not a string'] };
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    failures.push(`payloadType is ${quote(payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  if (typeof payload !== 'string') return { ok: false, failures: [...failures, 'payload is missing or not a string'] };
  const body = strictBase64(payload);
  if (!body)
    return {
      ok: false,
      failures: [...failures, 'payload is not canonical base64 (RFC 4648, standard alphabet, padded)'],
    };
  if (!Array.isArray(signatures) || signatures.length === 0)
    return { ok: false, failures: [...failures, 'signatures is missing or empty'] };

  const message = pae(payloadType, body);
  let verifiedBy: TrustedKey | undefined;
  for (const [i, s] of (signatures as unknown[]).entries()) {
    if (!isObject(s) || typeof s.sig !== 'string') {
      failures.push(`signatures[${i}] is not an object with a string sig`);
      continue;
    }
    if (s.keyid !== undefined && typeof s.keyid !== 'string') {
      failures.push(`signatures[${i}].keyid is not a string`);
      continue;
    }
    const sig = strictBase64(s.sig);
    if (!sig) {
      failures.push(`signatures[${i}].sig is not canonical base64`);
      continue;
    }
    verifiedBy ??= trusted.find((k) => signatureValid(k.key, message, sig));
  }
  if (!verifiedBy) failures.push('no signature verifies with the given public key(s)');

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { ok: false, failures: [...failures, 'the payload is not UTF-8 JSON'] };
  }
  if (!isObject(parsed))
    return { ok: false, failures: [...failures, `the payload is ${describeType(parsed)}, not an in-toto statement`] };
  const statement = parsed;
  if (statement._type !== STATEMENT_TYPE)
    failures.push(`statement _type is ${quote(statement._type)}, not ${STATEMENT_TYPE}`);
  if (statement.predicateType !== SLSA_PROVENANCE_V1)
    failures.push(`predicateType is ${quote(statement.predicateType)}, not ${SLSA_PROVENANCE_V1}`);

  const digest = policy.digest.toLowerCase().replace(/^sha256:/, '');
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  if (!Array.isArray(statement.subject)) failures.push('statement subject is not a list');
  if (!subjects.some((s) => isObject(s) && isObject(s.digest) && s.digest.sha256 === digest))
    failures.push(`no subject has sha256 ${digest}`);

  const predicate = isObject(statement.predicate) ? statement.predicate : {};
  const buildDefinition = isObject(predicate.buildDefinition) ? predicate.buildDefinition : {};
  const runDetails = isObject(predicate.runDetails) ? predicate.runDetails : {};
  const builderId = isObject(runDetails.builder) ? runDetails.builder.id : undefined;
  if (policy.builderId !== undefined && builderId !== policy.builderId)
    failures.push(`builder id is ${quote(builderId)}, not ${quote(policy.builderId)}`);

  if (policy.reporters?.length) {
    const reporter = isObject(buildDefinition.internalParameters)
      ? buildDefinition.internalParameters.reporter
      : undefined;
    const allowed = policy.reporters.map((r) => r.toLowerCase());
    if (typeof reporter !== 'string' || !allowed.includes(reporter.toLowerCase())) {
      failures.push(`the task was reported by ${quote(reporter)}, not by ${policy.reporters.map(quote).join(' or ')}`);
    }
  }

  if (policy.sourceUri !== undefined || policy.sourceRefs?.length) {
    const want = policy.sourceUri?.replace(/^git\+/, '');
    const deps = Array.isArray(buildDefinition.resolvedDependencies)
      ? buildDefinition.resolvedDependencies.filter(isObject)
      : [];
    const sources = deps.filter(
      (d) => typeof d.uri === 'string' && d.uri.startsWith('git+') && (want === undefined || d.uri.slice(4) === want),
    );
    if (sources.length === 0) failures.push(`no git dependency ${want ? `from ${quote(want)}` : ''}`.trim());
    else if (policy.sourceRefs?.length) {
      const refs = new Set(
        sources.flatMap((d) =>
          isObject(d.annotations) && Array.isArray(d.annotations.refs)
            ? d.annotations.refs.filter((r): r is string => typeof r === 'string')
            : [],
        ),
      );
      if (!policy.sourceRefs.some((r) => refs.has(r))) {
        failures.push(
          `source is on ${[...refs].map((r) => printable(r)).join(', ') || 'no reported ref'}, not on ${policy.sourceRefs.map((r) => printable(r)).join(' or ')}`,
        );
      }
    }
  }
  return {
    ok: failures.length === 0,
    failures,
    statement: statement as unknown as Statement,
    ...(verifiedBy ? { verifiedBy } : {}),
  };
}

/** The bytes of RFC 4648 standard base64 with padding, only if `text` is exactly how they encode. */
export function strictBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined; // non-zero padding bits are not canonical
}

/**
 * A string from untrusted input, made safe to print: control characters (C0,
 * C1, DEL, so no escape sequences), bidirectional and invisible format
 * characters and separators are shown as \u{…}; long strings are cut.
 */
export function printable(value: unknown, max = 200): string {
  const s = typeof value === 'string' ? value : String(value);
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters to escape is this pattern's job
    /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/gu,
    // Every character of the class is in the BMP (lone surrogates included): one UTF-16 unit.
    (c) => `\\u{${c.charCodeAt(0).toString(16)}}`,
  );
}

const quote = (value: unknown) => (value === undefined ? 'missing' : `"${printable(value)}"`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}

function signatureValid(key: KeyObject, message: Buffer, sig: Buffer): boolean {
  try {
    if (key.asymmetricKeyType === 'ec') {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const hash = curve === 'secp384r1' ? 'sha384' : 'sha256';
      return cryptoVerify(hash, message, key, sig);
    }
    if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
      // KMS RSA-PSS: salt length = digest length; SHA-256 except the SHA-512 variant.
      return ['sha256', 'sha512'].some((hash) =>
        cryptoVerify(
          hash,
          message,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
          sig,
        ),
      );
    }
  } catch {
    return false;
  }
  return false;
}
