// A real OCI registry on loopback for the attachment tests: Debian's
// docker-registry (the CNCF distribution registry), started on a free port in
// its own process group with its storage in a temporary folder, like the
// emulators; and a small image pushed to it with the registry API.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../functions/local/emulators.js';

export interface RunningRegistry {
  host: string;
  stop(): Promise<void>;
  /** Start it again on the same port and storage (after stop). */
  restart(): Promise<void>;
}

export async function startRegistry(): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n`,
  );
  let child: ReturnType<typeof spawn> | undefined;
  const start = async () => {
    child = spawn('docker-registry', ['serve', config], { detached: true, stdio: 'ignore' });
    child.once('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(500) })).ok) return;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null)
        throw new Error('docker-registry exited: is the Debian package docker-registry installed? (.ci/apt-packages)');
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`docker-registry did not start on ${host}`);
  };
  const stop = async () => {
    if (!child?.pid || child.exitCode !== null) return;
    const exited = new Promise((r) => child!.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // gone
    }
    await exited;
  };
  await start();
  return { host, stop, restart: start };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function putBlob(host: string, name: string, blob: Buffer): Promise<string> {
  const digest = sha(blob);
  const start = await fetch(`http://${host}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(blob),
  });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
  return digest;
}

/** Pushes a one-layer OCI image as name:tag; returns its manifest digest. */
export async function pushImage(host: string, name: string, tag: string): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = Buffer.from(`layer of ${name}:${tag}`);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: await putBlob(host, name, config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: await putBlob(host, name, layer),
          size: layer.length,
        },
      ],
    }),
  );
  const put = await fetch(`http://${host}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: new Uint8Array(manifest),
  });
  if (put.status !== 201) throw new Error(`manifest upload: ${put.status} ${await put.text()}`);
  return sha(manifest);
}
