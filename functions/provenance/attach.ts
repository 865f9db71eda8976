// Attaching a task's bundle to its OCI images: each image on its own, a
// failure recorded (never thrown), so attaching never blocks or fails signing.
import type { Attachment, ImageAttacher, ImageRef } from '../ports/attacher.js';

export async function attachAll(
  attacher: ImageAttacher,
  images: ImageRef[],
  bundle: object,
  now: () => Date,
): Promise<Attachment[]> {
  return Promise.all(
    images.map(async (image) => {
      const name = `${image.name}@${image.digest}`;
      try {
        await attacher.attach(image, bundle);
        return { image: name, state: 'attached' as const, at: now() };
      } catch (err) {
        return { image: name, state: 'failed' as const, error: (err as Error).message.slice(0, 500), at: now() };
      }
    }),
  );
}

/** "registry/path/image@sha256:…" → the image reference. */
export function imageOf(attachment: Pick<Attachment, 'image'>): ImageRef {
  const at = attachment.image.lastIndexOf('@');
  return { name: attachment.image.slice(0, at), digest: attachment.image.slice(at + 1) };
}
