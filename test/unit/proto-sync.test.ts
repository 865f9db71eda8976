// The committed generated code must be what buf + protoc-gen-es make from
// proto/ today: regenerate into a temp dir and compare byte for byte.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

it('functions/gen matches proto/ (run `npm run generate` after editing a .proto)', () => {
  const out = mkdtempSync(join(tmpdir(), 'gen-'));
  try {
    const bin = join(root, 'node_modules', '.bin');
    execFileSync(join(bin, 'buf'), ['generate', '-o', out], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    const committedDir = join(root, 'functions', 'gen');
    const freshDir = join(out, 'functions', 'gen');
    const committed = files(committedDir)
      .map((f) => relative(committedDir, f))
      .sort();
    const fresh = files(freshDir)
      .map((f) => relative(freshDir, f))
      .sort();
    assert.deepEqual(committed, fresh, 'generated file list differs');
    for (const f of fresh) {
      assert.equal(
        readFileSync(join(committedDir, f), 'utf8'),
        readFileSync(join(freshDir, f), 'utf8'),
        `${f} is stale`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
