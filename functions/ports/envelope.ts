// The DSSE envelope as the ports carry it (stored, served, published): the
// shape only. Building and verifying envelopes is provenance/dsse.ts's job.
export interface Envelope {
  payloadType: string;
  payload: string; // base64
  signatures: { keyid: string; sig: string }[];
}
