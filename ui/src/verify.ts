// The verdict, computed here in the browser with WebCrypto against the key set
// GET /v1/keys serves: the server is trusted for nothing but bytes. Checks, in
// order, each named when it fails: the envelope's shape, its payload type, the
// payload's base64, a signature by a key the set holds (the keyid only picks
// the key: the signature must still verify), the signature over DSSE's
// pre-authentication encoding, the statement's types, and that a subject is
// the artifact looked up.

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

export interface KeyEntry {
  keyId: string;
  algorithm: string;
  pem: string;
  state?: string;
  createTime?: string;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  ok: boolean;
  /** The key a signature verified with (only that one, never a key the envelope merely names). */
  keyId?: string;
  checks: Check[];
  /** The decoded statement (also when the signature failed: shown, marked unverified). */
  statement?: unknown;
}

interface Scheme {
  importParams: RsaHashedImportParams | EcKeyImportParams;
  verifyParams: RsaPssParams | EcdsaParams;
  /** ECDSA: the byte length of r and s (WebCrypto wants r||s; KMS signs DER). */
  ecSize?: number;
}

const SCHEMES: Record<string, Scheme> = {
  ECDSA_P256_SHA256: {
    importParams: { name: 'ECDSA', namedCurve: 'P-256' },
    verifyParams: { name: 'ECDSA', hash: 'SHA-256' },
    ecSize: 32,
  },
  ECDSA_P384_SHA384: {
    importParams: { name: 'ECDSA', namedCurve: 'P-384' },
    verifyParams: { name: 'ECDSA', hash: 'SHA-384' },
    ecSize: 48,
  },
  // KMS RSA-PSS: the salt is as long as the digest.
  RSA_PSS_2048_SHA256: rsaPss('SHA-256', 32),
  RSA_PSS_3072_SHA256: rsaPss('SHA-256', 32),
  RSA_PSS_4096_SHA256: rsaPss('SHA-256', 32),
  RSA_PSS_4096_SHA512: rsaPss('SHA-512', 64),
};

function rsaPss(hash: string, saltLength: number): Scheme {
  return { importParams: { name: 'RSA-PSS', hash }, verifyParams: { name: 'RSA-PSS', saltLength } };
}

/** The key set from untrusted JSON; throws naming the problem. */
export function parseKeySet(json: unknown): KeyEntry[] {
  if (!Array.isArray(json)) throw new Error('the key set is not a JSON list');
  if (json.length === 0) throw new Error('the key set is empty');
  return json.map((k: unknown, i) => {
    const o = (typeof k === 'object' && k !== null ? k : {}) as Record<string, unknown>;
    if (typeof o.keyId !== 'string' || typeof o.pem !== 'string' || typeof o.algorithm !== 'string')
      throw new Error(`key ${i + 1} has no string keyId, algorithm and pem`);
    return {
      keyId: o.keyId,
      algorithm: o.algorithm,
      pem: o.pem,
      ...(typeof o.state === 'string' ? { state: o.state } : {}),
      ...(typeof o.createTime === 'string' ? { createTime: o.createTime } : {}),
    };
  });
}

/** The SubjectPublicKeyInfo DER inside a PEM "PUBLIC KEY" block. */
function spki(pem: string): Uint8Array<ArrayBuffer> {
  const m = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (!m?.[1]) throw new Error('pem holds no PUBLIC KEY block');
  const der = strictBase64(m[1].replace(/\s+/g, ''));
  if (!der) throw new Error('pem holds a PUBLIC KEY block that is not base64');
  return der;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTET = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;

/**
 * Strict base64, decoded in one pass (a 2 MiB payload in milliseconds): the
 * alphabet only, padding only at the end, and the bits the last character
 * does not use set to zero, so one byte string has exactly one text.
 */
export function strictBase64(s: string): Uint8Array<ArrayBuffer> | undefined {
  if (s.length % 4 !== 0) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length - pad; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? (SEXTET[c] ?? -1) : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return acc === 0 ? out : undefined;
}

/** DSSE's PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const type = enc.encode(payloadType);
  const head = enc.encode(`DSSEv1 ${type.length} `);
  const mid = enc.encode(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + mid.length + payload.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(mid, head.length + type.length);
  out.set(payload, head.length + type.length + mid.length);
  return out;
}

/**
 * An ECDSA signature in DER (SEQUENCE { INTEGER r, INTEGER s }) as IEEE P1363
 * r||s of `size` bytes each, as WebCrypto wants it. Undefined when it is not
 * well-formed DER for that curve.
 */
export function derToP1363(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> | undefined {
  let p = 0;
  const byte = () => (p < der.length ? (der[p++] as number) : -1);
  if (byte() !== 0x30) return undefined;
  let len = byte();
  if (len === 0x81) len = byte();
  if (len < 0 || len !== der.length - p) return undefined;
  const out = new Uint8Array(size * 2);
  for (const at of [0, size]) {
    if (byte() !== 0x02) return undefined;
    const n = byte();
    if (n <= 0 || p + n > der.length) return undefined;
    let int = der.subarray(p, p + n);
    p += n;
    while (int.length > 1 && int[0] === 0) int = int.subarray(1);
    if (int.length > size) return undefined;
    out.set(int, at + size - int.length);
  }
  return p === der.length ? out : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The verdict on one envelope (untrusted JSON of any shape): never throws. */
export async function verifyEnvelope(envelope: unknown, keys: KeyEntry[], expectedSha256?: string): Promise<Verdict> {
  const checks: Check[] = [];
  const fail = (name: string, detail: string, statement?: unknown): Verdict => {
    checks.push({ name, ok: false, detail });
    return { ok: false, checks, ...(statement !== undefined ? { statement } : {}) };
  };
  const pass = (name: string, detail: string) => checks.push({ name, ok: true, detail });

  if (!isObject(envelope)) return fail('envelope', 'the entry is not a JSON object (a DSSE envelope)');
  const { payloadType, payload, signatures } = envelope;
  if (typeof payloadType !== 'string' || typeof payload !== 'string' || !Array.isArray(signatures))
    return fail('envelope', 'the envelope lacks a string payloadType, a string payload or a signatures list');
  pass('envelope', 'a DSSE envelope');
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return fail('payload type', `payloadType is ${JSON.stringify(payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  pass('payload type', IN_TOTO_PAYLOAD_TYPE);
  const body = strictBase64(payload);
  if (!body) return fail('payload encoding', 'payload is not canonical base64');
  pass('payload encoding', `${body.length} bytes`);

  let statement: unknown;
  try {
    statement = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    statement = undefined;
  }

  const sigs = signatures.filter(isObject);
  const candidates = sigs.flatMap((s) => {
    const key = keys.find((k) => k.keyId === s.keyid);
    return key && typeof s.sig === 'string' ? [{ key, sig: s.sig }] : [];
  });
  if (candidates.length === 0) {
    const named = sigs.map((s) => s.keyid).find((k): k is string => typeof k === 'string');
    return fail(
      'signing key',
      named ? `signed by key ${named}, which the key set (/v1/keys) does not hold` : 'no signature names a key (keyid)',
      statement,
    );
  }
  pass('signing key', candidates.map((c) => c.key.keyId).join(', '));

  const message = pae(payloadType, body);
  let verifiedBy: KeyEntry | undefined;
  const problems: string[] = [];
  for (const { key, sig } of candidates) {
    const scheme = SCHEMES[key.algorithm];
    if (!scheme) {
      problems.push(`key ${key.keyId} has algorithm ${key.algorithm}, which this page cannot check`);
      continue;
    }
    const raw = strictBase64(sig);
    const signature = raw && scheme.ecSize ? derToP1363(raw, scheme.ecSize) : raw;
    if (!signature) {
      problems.push(`the signature by ${key.keyId} is not well-formed (${scheme.ecSize ? 'DER ECDSA' : 'base64'})`);
      continue;
    }
    try {
      const cryptoKey = await crypto.subtle.importKey('spki', spki(key.pem), scheme.importParams, false, ['verify']);
      if (await crypto.subtle.verify(scheme.verifyParams, cryptoKey, signature, message)) {
        verifiedBy = key;
        break;
      }
      problems.push(`the signature does not verify with key ${key.keyId}: the envelope was changed after signing`);
    } catch (err) {
      problems.push(`key ${key.keyId} could not be used: ${(err as Error).message}`);
    }
  }
  if (!verifiedBy) return fail('signature', problems.join('; '), statement);
  pass('signature', `${verifiedBy.algorithm} by ${verifiedBy.keyId}`);

  if (!isObject(statement)) return fail('statement', 'the payload is not a JSON object');
  if (statement._type !== STATEMENT_TYPE)
    return fail('statement', `_type is ${JSON.stringify(statement._type)}, not ${STATEMENT_TYPE}`, statement);
  if (statement.predicateType !== SLSA_PROVENANCE_V1)
    return fail(
      'statement',
      `predicateType is ${JSON.stringify(statement.predicateType)}, not ${SLSA_PROVENANCE_V1}`,
      statement,
    );
  pass('statement', 'in-toto Statement v1, SLSA Provenance v1');

  if (expectedSha256 !== undefined) {
    const subjects = Array.isArray(statement.subject) ? statement.subject.filter(isObject) : [];
    const named = subjects.some((s) => isObject(s.digest) && s.digest.sha256 === expectedSha256);
    if (!named) return fail('subject', `no subject has sha256:${expectedSha256}`, statement);
    pass('subject', `sha256:${expectedSha256}`);
  }
  return { ok: true, keyId: verifiedBy.keyId, checks, statement };
}
