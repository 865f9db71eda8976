// Kept for importers written before the verification engine (functions/verify/):
// the key helpers and printable, re-exported from where they now live. New
// code imports functions/verify/ directly; the engine is functions/verify/engine.ts.
export { strictBase64 } from '../verify/envelope.js';
export { fingerprint, parsePublicKeys, type TrustedKey } from '../verify/keys.js';
export { printable } from '../verify/text.js';
