// An envelope's JSON around its payload, so the read API can answer a large
// envelope (or the Sigstore bundle made from it) piece by piece from where it
// is stored, and know the answer's length before reading it: the payload is
// the only large part, and both forms carry its base64 verbatim.
import { envelopeToBundle } from './bundle.js';
import type { Envelope } from '../ports/envelope.js';
import { MARK, payloadLength, split, type EnvelopeFrame, type EnvelopeShape } from '../ports/envelope-shape.js';

/** The frame of the Sigstore bundle made from an envelope of this frame (JSON.stringify(envelopeToBundle(e))). */
export function bundleFrame(frame: EnvelopeFrame): EnvelopeFrame {
  const envelope = JSON.parse(`${frame.head}${MARK}${frame.tail}`) as Envelope;
  return split(JSON.stringify(envelopeToBundle(envelope)), 'bundle');
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
