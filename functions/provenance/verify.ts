// Verifying provenance with the public key alone: the DSSE signature, the
// statement and predicate types, the subject digest, and optional policy
// (builder id, source repository, allowed refs). Returns every failure, one
// line each, so `provenance verify` can say exactly why it refused.
import { constants, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { IN_TOTO_PAYLOAD_TYPE, pae, type Envelope } from './dsse.js';
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE, type Statement } from './statement.js';

export interface VerifyPolicy {
  /** sha256 hex of the artifact the provenance must name. */
  digest: string;
  builderId?: string;
  /** Repository that must appear among the git dependencies (with or without "git+"). */
  sourceUri?: string;
  /** The source repository's commit must be on one of these refs (e.g. refs/heads/main). */
  sourceRefs?: string[];
}

export interface VerifyResult {
  ok: boolean;
  failures: string[];
  statement?: Statement;
}

/** Every public key in a PEM text (one file may hold several, e.g. across a key rotation). */
export function parsePublicKeys(pemText: string): KeyObject[] {
  const blocks = pemText.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  return blocks.map((b) => createPublicKey(b));
}

/** keys: PEM text (one or more public keys) or keys parsed once with parsePublicKeys. */
export function verifyEnvelope(envelope: Envelope, keys: string | KeyObject[], policy: VerifyPolicy): VerifyResult {
  const failures: string[] = [];
  let parsed: KeyObject[];
  try {
    parsed = typeof keys === 'string' ? parsePublicKeys(keys) : keys;
  } catch {
    parsed = [];
  }
  if (parsed.length === 0) return { ok: false, failures: ['the key file holds no PEM public key'] };
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) failures.push(`payloadType is "${envelope.payloadType}", not ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = Buffer.from(envelope.payload ?? '', 'base64');
  const message = pae(envelope.payloadType, payload);
  const signed = (envelope.signatures ?? []).some((s) => parsed.some((key) => signatureValid(key, message, Buffer.from(s.sig ?? '', 'base64'))));
  if (!signed) failures.push('no signature verifies with the given public key');

  let statement: Statement | undefined;
  try {
    statement = JSON.parse(payload.toString('utf8')) as Statement;
  } catch {
    failures.push('the payload is not JSON');
    return { ok: false, failures };
  }
  if (statement._type !== STATEMENT_TYPE) failures.push(`statement _type is "${statement._type}", not ${STATEMENT_TYPE}`);
  if (statement.predicateType !== SLSA_PROVENANCE_V1) failures.push(`predicateType is "${statement.predicateType}", not ${SLSA_PROVENANCE_V1}`);
  const digest = policy.digest.toLowerCase().replace(/^sha256:/, '');
  if (!(statement.subject ?? []).some((s) => s.digest?.sha256 === digest)) failures.push(`no subject has sha256 ${digest}`);

  const predicate = statement.predicate;
  if (policy.builderId !== undefined && predicate?.runDetails?.builder?.id !== policy.builderId) {
    failures.push(`builder id is "${predicate?.runDetails?.builder?.id}", not "${policy.builderId}"`);
  }
  if (policy.sourceUri !== undefined || policy.sourceRefs?.length) {
    const want = policy.sourceUri?.replace(/^git\+/, '');
    const sources = (predicate?.buildDefinition?.resolvedDependencies ?? []).filter(
      (d) => d.uri?.startsWith('git+') && (want === undefined || d.uri.slice(4) === want),
    );
    if (sources.length === 0) failures.push(`no git dependency ${want ? `from ${want}` : ''}`.trim());
    else if (policy.sourceRefs?.length) {
      const refs = new Set(sources.flatMap((d) => (d.annotations?.refs as string[] | undefined) ?? []));
      if (!policy.sourceRefs.some((r) => refs.has(r))) {
        failures.push(`source is on ${[...refs].join(', ') || 'no reported ref'}, not on ${policy.sourceRefs.join(' or ')}`);
      }
    }
  }
  return { ok: failures.length === 0, failures, statement };
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
        cryptoVerify(hash, message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig),
      );
    }
  } catch {
    return false;
  }
  return false;
}
