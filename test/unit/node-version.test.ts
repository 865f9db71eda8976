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

it('.nvmrc names the Node major the functions run on, and so do the CI Node, the builder image and the pipeline', () => {
  const read = (file: string) => readFileSync(join(root, file), 'utf8');
  const nvmrc = read('.nvmrc').trim();
  assert.match(nvmrc, /^\d+$/, '.nvmrc holds a major version');
  const majors: [string, string | undefined][] = [
    ['infra/main.tf runtime', /runtime\s*=\s*"nodejs(\d+)"/.exec(read('infra/main.tf'))?.[1]],
    ['.ci/node-env', /PROVENANCE_NODE_VERSION:-(\d+)\./.exec(read('.ci/node-env'))?.[1]],
    ['Dockerfile', /^FROM node:(\d+)/m.exec(read('Dockerfile'))?.[1]],
    ...[...read('cloudbuild.yaml').matchAll(/name: node:(\d+)/g)].map((m): [string, string | undefined] => [
      'cloudbuild.yaml',
      m[1],
    ]),
  ];
  for (const [where, major] of majors) assert.equal(major, nvmrc, `${where} runs Node ${major}, .nvmrc says ${nvmrc}`);
});
