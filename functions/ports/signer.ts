// The signer port: who signs provenance. Adapters: Cloud KMS (production; a
// local gRPC KMS server in tests) and a local key file (npm start).
export type SigningAlgorithm =
  | 'ECDSA_P256_SHA256'
  | 'ECDSA_P384_SHA384'
  | 'RSA_PSS_2048_SHA256'
  | 'RSA_PSS_3072_SHA256'
  | 'RSA_PSS_4096_SHA256'
  | 'RSA_PSS_4096_SHA512';

export interface PublicKeyInfo {
  /** For KMS: the key version's resource name. */
  keyId: string;
  algorithm: SigningAlgorithm;
  pem: string;
}

/** A key that may have signed something still served: what /v1/keys lists. */
export interface VerificationKey extends PublicKeyInfo {
  /** KMS key version state (ENABLED, DISABLED, …); the local key is ENABLED. */
  state: string;
  /** When the key (version) was created, ISO 8601. */
  createTime: string;
}

export interface Signer {
  /** The key that signs now. */
  publicKey(): Promise<PublicKeyInfo>;
  /** Every key that may have signed something still served (after rotations), the signing one included. */
  verificationKeys(): Promise<VerificationKey[]>;
  /** Sign these bytes (the signer hashes them as its algorithm requires). */
  sign(data: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }>;
}
