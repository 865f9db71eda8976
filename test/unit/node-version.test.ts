// The tests run on the Node the project targets: a run on an older Node than
// package.json's `engines` allows fails here, so CI can never quietly fall
// back to the machine's own Node 20 (see .ci/node-env).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

it('runs on a Node that package.json engines allows', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  const min = /^>=(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(pkg.engines.node);
  assert.ok(min, `engines.node "${pkg.engines.node}" is not of the form >=X[.Y[.Z]]`);
  const want = min.slice(1).map((n) => Number(n ?? 0));
  const have = process.versions.node.split('.').map(Number);
  const cmp = have[0]! - want[0]! || have[1]! - want[1]! || have[2]! - want[2]!;
  assert.ok(
    cmp >= 0,
    `running on Node ${process.versions.node}, but engines.node is "${pkg.engines.node}": source .ci/node-env first`,
  );
});
