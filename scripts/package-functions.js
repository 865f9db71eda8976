#!/usr/bin/env node
// Builds the Cloud Functions source archive Terraform uploads (npm run package):
// the compiled functions (dist/functions, without the CLI and npm start's
// local server), the pages' assets (dist/ui), package.json with only a start script (the buildpack runs
// `npm ci`: no prepare step that would need the TypeScript compiler), and
// package-lock.json unchanged, so the buildpack installs exactly what the
// tests ran with. The archive is deterministic (sorted entries, fixed times):
// the same source gives the same bytes and so the same digest.
// Usage: node scripts/package-functions.js [out.zip]   (default dist/function-source.zip)
const { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { dirname, join, relative, resolve, sep } = require('node:path');
const { zipSync } = require('fflate');

const root = join(__dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'function-source.zip'));
const compiled = join(root, 'dist', 'functions');
const LEFT_OUT = ['cli', 'local'].map((d) => join(compiled, d) + sep);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const deployed = { ...pkg, scripts: { start: 'functions-framework' } };
delete deployed.bin;

const FIXED_TIME = new Date('2026-01-01T00:00:00Z');
const entries = {
  'package.json': [Buffer.from(`${JSON.stringify(deployed, null, 2)}\n`), { mtime: FIXED_TIME }],
  'package-lock.json': [readFileSync(join(root, 'package-lock.json')), { mtime: FIXED_TIME }],
};
let count = 0;
for (const file of files(compiled).sort()) {
  if (!file.endsWith('.js') || LEFT_OUT.some((d) => file.startsWith(d))) continue;
  entries[relative(root, file).split(sep).join('/')] = [readFileSync(file), { mtime: FIXED_TIME }];
  count++;
}
if (count === 0) throw new Error('dist/functions is empty: run `tsc -p .` first (npm run package does)');
// The pages provenanceApi serves at /ui/ (built by scripts/build-ui.js).
const ui = join(root, 'dist', 'ui');
const uiFiles = existsSync(join(ui, 'index.html')) ? files(ui).sort() : [];
if (uiFiles.length === 0)
  throw new Error('dist/ui is empty: run `node scripts/build-ui.js` first (npm run package does)');
for (const file of uiFiles)
  entries[relative(root, file).split(sep).join('/')] = [readFileSync(file), { mtime: FIXED_TIME }];
const zip = Buffer.from(
  zipSync(
    Object.fromEntries(
      Object.keys(entries)
        .sort()
        .map((k) => [k, entries[k]]),
    ),
    { level: 9 },
  ),
);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, zip);
const sha256 = createHash('sha256').update(zip).digest('hex');
process.stdout.write(
  `${out}: ${count} modules, ${uiFiles.length} page assets, ${(zip.length / 1024).toFixed(0)} KiB, sha256:${sha256}\n`,
);
