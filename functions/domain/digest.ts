// The one sha256-as-hex the project compares across places: an envelope's
// digest as the sinks record it (publication metadata) must equal the one the
// verifier reports for the same text, and a policy file's digest in a VSA the
// one `policy check` prints. Strings are hashed as their UTF-8 bytes.
import { hash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}
