// ImageAttacher with the Sigstore project's @sigstore/oci (the scheme cosign
// v3, Tekton Chains and GitHub use): the bundle is uploaded as a blob, an OCI
// 1.1 artifact manifest (artifactType = the bundle media type, subject = the
// image manifest) points at it, and where the registry has no Referrers API
// the sha256-<digest> referrers tag is updated instead. Artifact Registry and
// gcr.io are signed into with the service account's access token; a registry
// on loopback (tests) needs none.
import type { ImageAttacher, ImageRef } from '../ports/attacher.js';
import { backendCall, DEFAULT_BACKEND_DEADLINE_MS } from './backend-call.js';

export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export class OciAttacher implements ImageAttacher {
  constructor(
    /** An access token for Google registries (google-auth-library in production). */
    private readonly accessToken: () => Promise<string>,
    private readonly deadlineMs = DEFAULT_BACKEND_DEADLINE_MS,
  ) {}

  attach(image: ImageRef, bundle: object): Promise<void> {
    return backendCall(`registry attach to ${image.name}`, this.deadlineMs, async () => {
      const { attachArtifactToImage } = await import('@sigstore/oci');
      const host = image.name.split('/', 1)[0] ?? '';
      const google = host.endsWith('-docker.pkg.dev') || host === 'gcr.io' || host.endsWith('.gcr.io');
      const credentials = google ? { username: 'oauth2accesstoken', password: await this.accessToken() } : undefined;
      await attachArtifactToImage({
        imageName: image.name,
        imageDigest: image.digest,
        artifact: Buffer.from(JSON.stringify(bundle)),
        mediaType: BUNDLE_ARTIFACT_TYPE,
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
        credentials: credentials as never, // none for a registry that needs none (@sigstore/oci then skips signing in)
      });
    });
  }
}

/** The service account's access token, for Artifact Registry. */
export function googleAccessToken(): () => Promise<string> {
  return async () => {
    const { GoogleAuth } = await import('google-auth-library');
    const token = await new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] }).getAccessToken();
    if (!token) throw new Error('no access token for the registry');
    return token;
  };
}
