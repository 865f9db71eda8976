// DSSE envelopes (https://github.com/secure-systems-lab/dsse): the signature
// covers the pre-authentication encoding of (payloadType, payload), never the
// raw JSON, so a payload cannot be reinterpreted under another type.
import { dsse } from '@sigstore/core';
import { canonicalJson } from '../domain/report.js';
import type { Statement } from './statement.js';
import type { Signer } from '../ports/signer.js';
import type { Envelope } from '../ports/envelope.js';

export type { Envelope } from '../ports/envelope.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, as @sigstore/core encodes it (the verifier uses the same). */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  return dsse.preAuthEncoding(payloadType, Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
}

/** The statement's bytes: canonical JSON, so the same statement signs the same bytes. */
export function statementBytes(statement: Statement): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}

/** An envelope as signStatement makes it: exactly one signature. */
export type SignedEnvelope = Envelope & { signatures: [Envelope['signatures'][number]] };

export function signStatement(statement: Statement, signer: Signer): Promise<SignedEnvelope> {
  return signPayload(statementBytes(statement), signer);
}

/** An in-toto payload already serialised (canonical JSON), signed as a DSSE envelope. */
export async function signPayload(payload: Buffer, signer: Signer): Promise<SignedEnvelope> {
  const { keyId, signature } = await signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
  };
}

/**
 * Envelopes from a file or a response: JSON lines (the .intoto.jsonl layout
 * the read API serves), a single envelope, or a JSON array of envelopes.
 * Throws on the first entry that is not one (for trusted input; the verifier
 * reads untrusted files strictly, with functions/verify/entries.ts).
 */
export function parseEnvelopes(text: string): Envelope[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  let values: unknown[];
  try {
    const whole = JSON.parse(trimmed) as unknown;
    values = Array.isArray(whole) ? whole : [whole];
  } catch {
    values = trimmed
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((line, i) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          throw new Error(`line ${i + 1} is not JSON`);
        }
      });
  }
  return values.map((v, i) => {
    const e = v as Partial<Envelope> | null;
    if (!e || typeof e.payload !== 'string' || typeof e.payloadType !== 'string' || !Array.isArray(e.signatures)) {
      throw new Error(`entry ${i + 1} is not a DSSE envelope (payloadType, payload, signatures)`);
    }
    return e as Envelope;
  });
}
