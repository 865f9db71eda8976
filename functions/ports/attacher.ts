// The attacher port: puts a task's Sigstore bundle next to an OCI image in its
// registry, as an OCI 1.1 artifact whose subject is the image manifest (found
// through the Referrers API, or the referrers tag where a registry has none).
// Adapter: @sigstore/oci (functions/adapters/oci-attacher.ts).

export interface ImageRef {
  /** registry/path/image, no tag. */
  name: string;
  /** The image manifest's digest: sha256:<hex>. */
  digest: string;
}

export interface ImageAttacher {
  attach(image: ImageRef, bundle: object): Promise<void>;
}

/** One image's attachment, as recorded on the provenance record. */
export interface Attachment {
  /** registry/path/image@sha256:<hex> */
  image: string;
  state: 'attached' | 'failed';
  error?: string;
  at: Date;
}
