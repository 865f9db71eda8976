// An envelope's JSON around its payload: what a store records of an envelope
// (its frame and byte length) so the read API can answer it piece by piece and
// know the answer's length before reading it. A pure rule every ProvenanceStore
// adapter shares, so it lives beside the port (like provenance-claim.ts).
import type { Envelope } from './envelope.js';

/** The envelope's JSON text before and after the payload's base64 (the text is head + payload + tail). */
export interface EnvelopeFrame {
  head: string;
  tail: string;
}

/** What the store knows of an envelope without reading it: its frame and the byte length of its JSON. */
export interface EnvelopeShape {
  frame: EnvelopeFrame;
  bytes: number;
}

/** A base64 placeholder no frame contains: 3 bytes, encoded the same by every encoder. */
export const MARK = 'QkVB';

export function split(json: string, what: string): EnvelopeFrame {
  const key = `"payload":"${MARK}"`;
  const at = json.indexOf(key);
  if (at < 0 || json.indexOf(key, at + 1) >= 0) throw new Error(`${what}: the payload is not found once in its JSON`);
  return { head: json.slice(0, at + key.length - MARK.length - 1), tail: json.slice(at + key.length - 1) };
}

/**
 * The frame of the JSON that JSON.stringify(envelope) gives (how stores keep
 * envelopes). A caller that has serialised the envelope passes that text, so an
 * envelope of up to MAX_STATEMENT_BYTES is serialised once, not again here.
 */
export function envelopeShape(envelope: Envelope, json: string = JSON.stringify(envelope)): EnvelopeShape {
  const frame = split(JSON.stringify({ ...envelope, payload: MARK }), 'envelope');
  const whole =
    json.length === frame.head.length + envelope.payload.length + frame.tail.length &&
    json.startsWith(frame.head) &&
    json.startsWith(envelope.payload, frame.head.length) &&
    json.endsWith(frame.tail);
  if (!whole) throw new Error('envelope: its JSON does not have the payload in one place');
  return { frame, bytes: Buffer.byteLength(frame.head) + envelope.payload.length + Buffer.byteLength(frame.tail) };
}

/** The bytes of the base64 payload in an envelope of this shape. */
export function payloadLength(shape: EnvelopeShape): number {
  return shape.bytes - Buffer.byteLength(shape.frame.head) - Buffer.byteLength(shape.frame.tail);
}
