#!/usr/bin/env node
// Builds the pages for people (/ui/, docs/ui.md) into dist/ui: the browser
// code in ui/src bundled and minified by esbuild into one app.js (no
// framework, no third-party code at run time), and the page, stylesheet and
// icon copied beside it. provenanceApi serves dist/ui; scripts/package-functions.js
// puts it in the function archive. Usage: node scripts/build-ui.js [outdir]
const { buildSync } = require('esbuild');
const { copyFileSync, mkdirSync, readdirSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const outdir = resolve(process.argv[2] ?? join(root, 'dist', 'ui'));
mkdirSync(outdir, { recursive: true });
buildSync({
  entryPoints: [join(root, 'ui', 'src', 'main.ts')],
  bundle: true,
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  format: 'iife',
  outfile: join(outdir, 'app.js'),
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
buildSync({
  entryPoints: [join(root, 'ui', 'app.css')],
  bundle: true,
  minify: true,
  outfile: join(outdir, 'app.css'),
  logLevel: 'warning',
});
for (const name of ['index.html', 'icon.svg']) copyFileSync(join(root, 'ui', name), join(outdir, name));
const bytes = readdirSync(outdir).reduce((n, f) => n + statSync(join(outdir, f)).size, 0);
process.stdout.write(`built the pages into ${outdir} (${(bytes / 1024).toFixed(1)} KiB)\n`);
