// Where a signed VSA goes: OUT as DSSE JSON lines (.intoto.jsonl, for
// slsa-verifier and openssl) and, beside it, the same envelope as a Sigstore
// bundle (OUT with .intoto.jsonl → .sigstore.json, for @sigstore/verify and cosign).
import { writeFileSync } from 'node:fs';
import type { Envelope } from '../provenance/dsse.js';
import { envelopeToBundle } from '../provenance/bundle.js';

export function bundlePathFor(out: string): string {
  return out.endsWith('.intoto.jsonl')
    ? `${out.slice(0, -'.intoto.jsonl'.length)}.sigstore.json`
    : `${out}.sigstore.json`;
}

export function writeVsa(out: string, envelope: Envelope): { jsonl: string; bundle: string } {
  const bundle = bundlePathFor(out);
  writeFileSync(out, `${JSON.stringify(envelope)}\n`);
  writeFileSync(bundle, `${JSON.stringify(envelopeToBundle(envelope))}\n`);
  return { jsonl: out, bundle };
}
