// An envelope's JSON around its payload, so the read API can answer a large
// envelope (or the Sigstore bundle made from it) piece by piece from where it
// is stored, and know the answer's length before reading it: the payload is
// the only large part, and both forms carry its base64 verbatim.
import { envelopeToBundle } from './bundle.js';
import type { Envelope } from './dsse.js';

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
const MARK = 'QkVB';

function split(json: string, what: string): EnvelopeFrame {
  const key = `"payload":"${MARK}"`;
  const at = json.indexOf(key);
  if (at < 0 || json.indexOf(key, at + 1) >= 0) throw new Error(`${what}: the payload is not found once in its JSON`);
  return { head: json.slice(0, at + key.length - MARK.length - 1), tail: json.slice(at + key.length - 1) };
}

/** The frame of the JSON that JSON.stringify(envelope) gives (how stores keep envelopes). */
export function envelopeShape(envelope: Envelope): EnvelopeShape {
  const frame = split(JSON.stringify({ ...envelope, payload: MARK }), 'envelope');
  if (JSON.stringify(envelope) !== `${frame.head}${envelope.payload}${frame.tail}`)
    throw new Error('envelope: its JSON does not have the payload in one place');
  return { frame, bytes: Buffer.byteLength(frame.head) + envelope.payload.length + Buffer.byteLength(frame.tail) };
}

/** The bytes of the base64 payload in an envelope of this shape. */
export function payloadLength(shape: EnvelopeShape): number {
  return shape.bytes - Buffer.byteLength(shape.frame.head) - Buffer.byteLength(shape.frame.tail);
}

/** The frame of the Sigstore bundle made from an envelope of this frame (JSON.stringify(envelopeToBundle(e))). */
export function bundleFrame(frame: EnvelopeFrame): EnvelopeFrame {
  const envelope = JSON.parse(`${frame.head}${MARK}${frame.tail}`) as Envelope;
  return split(JSON.stringify(envelopeToBundle(envelope)), 'bundle');
}

/** Bytes of the bundle made from an envelope of this shape. */
export function bundleLength(shape: EnvelopeShape): number {
  const b = bundleFrame(shape.frame);
  return Buffer.byteLength(b.head) + payloadLength(shape) + Buffer.byteLength(b.tail);
}

/**
 * The payload's base64 out of the envelope's JSON text as it is read, piece
 * by piece (never joined): the text must start with the frame's head, and
 * exactly the payload's length is yielded. Payload base64 is ASCII, so
 * characters and bytes agree within it.
 */
export async function* payloadOf(text: AsyncIterable<string>, shape: EnvelopeShape): AsyncGenerator<string> {
  const { head } = shape.frame;
  let left = payloadLength(shape);
  let seen = 0; // characters of the head matched so far
  for await (const piece of text) {
    let at = 0;
    if (seen < head.length) {
      const want = head.slice(seen, seen + piece.length);
      if (!piece.startsWith(want)) throw new Error('stored envelope does not match its recorded frame');
      seen += want.length;
      at = want.length;
    }
    if (left > 0 && at < piece.length) {
      const part = piece.slice(at, at + left);
      left -= part.length;
      yield part;
    }
    if (left === 0 && seen >= head.length) return;
  }
  if (left > 0) throw new Error('stored envelope is shorter than its recorded size');
}
