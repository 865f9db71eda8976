// The `provenance` CLI's own refusals, run as the bin: usage errors exit 2
// with a message naming the option; verification failures exit 1.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';

const bin = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PROVENANCE_URL: 'http://127.0.0.1:9' },
  });

it('refuses wrong usage with exit 2 and a message naming the option', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  const key = join(dir, 'key.pem');
  writeFileSync(key, (await LocalSigner.ephemeral().publicKey()).pem);
  writeFileSync(join(dir, 'nokey.pem'), 'hello');
  writeFileSync(join(dir, 'bad.jsonl'), '{"payload": 1}\n');
  const digest = `sha256:${'a'.repeat(64)}`;
  const cases: [string[], RegExp][] = [
    [['verify', '--key', key], /exactly one of --artifact <file> or --digest/],
    [['verify', '--key', key, '--digest', digest, '--artifact', key], /exactly one of --artifact/],
    [['verify', '--key', key, '--digest', 'sha256:xyz'], /--digest: "sha256:xyz" is not sha256:<64 hex/],
    [['verify', '--key', join(dir, 'nokey.pem'), '--digest', digest], /--key: .* holds no PEM public key/],
    // Key files are read up to 1 MiB, whoever names them: a device is cut, not read forever.
    [['verify', '--key', '/dev/zero', '--digest', digest], /--key: \/dev\/zero is larger than 1 MiB/],
    [['verify', '--keys', '/dev/zero', '--digest', digest], /--keys: \/dev\/zero is larger than 1 MiB/],
    [
      ['verify', '--keys', join(dir, 'missing.json'), '--digest', digest],
      /--keys: cannot read .*missing\.json: ENOENT/,
    ],
    [['verify', '--key', key, '--digest', digest, '--provenance', join(dir, 'missing.jsonl')], /--provenance: ENOENT/],
    [
      ['verify', '--key', key, '--digest', digest, '--reporter', 'not-an-email'],
      /--reporter: "not-an-email" is not an email address/,
    ],
    [['verify', '--digest', digest], /give --key <pem>, --keys <key set>, or --url <service>/],
    [['verify', '--key', key, '--keys', key, '--digest', digest], /at most one of --key <pem> or --keys/],
    [['fetch', join(dir, 'missing.tar')], /is neither a sha256 digest .* nor a file/],
    [['fetch', digest], /cannot reach http:\/\/127.0.0.1:9/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
