#!/usr/bin/env node
// Builds the `provenance` CLI into one file any Node >= 22 can run with nothing
// installed (a Cloud Build step on the node:24 image: `node provenance.cjs ...`).
// Usage: node scripts/bundle-cli.js [outfile]   (default dist/provenance.cjs)
const { buildSync } = require('esbuild');
const { join, resolve } = require('node:path');
const { version } = require('../package.json');

const root = join(__dirname, '..');
const outfile = resolve(process.argv[2] ?? join(root, 'dist', 'provenance.cjs'));
const result = buildSync({
  entryPoints: [join(root, 'functions', 'cli', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  outfile,
  minify: true,
  legalComments: 'linked',
  define: { 'process.env.PROVENANCE_CLI_VERSION': JSON.stringify(version) },
  logLevel: 'warning',
  metafile: true,
  // The Cloud KMS client (~2 MiB with gax and grpc) is only for a deploy gate's `verify --vsa-key gcpkms://…`;
  // bundled, it would double every build step's start-up. The gate installs it beside the file (docs/gating.md).
  external: ['@google-cloud/kms', 'google-gax'],
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`bundled the provenance CLI ${version} into ${outfile} (${(bytes / 1024).toFixed(0)} KiB)\n`);
