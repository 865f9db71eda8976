#!/usr/bin/env node
// Extracts, from the generated bindings of the google provider that
// @cdktf/provider-google ships, the argument and block names of every
// resource and data source infra/*.tf uses, into
// infra/schema/google-provider.json, which test/unit/terraform.test.ts checks
// the Terraform against. The package is ~300 MB unpacked, too big for a dev
// dependency; this script fetches it into a temporary folder (npm pack) and is
// re-run after a .tf change that uses a new resource type, or to move the
// pinned provider version:  node scripts/extract-provider-schema.js
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { parse } = require('@cdktf/hcl2json');

const PACKAGE = '@cdktf/provider-google@16.12.1'; // binds hashicorp/google 6.50.0 (infra/versions.tf)
const root = join(__dirname, '..');
const infra = join(root, 'infra');

async function usedTypes() {
  const resources = new Set();
  const data = new Set();
  for (const f of readdirSync(infra).filter((n) => n.endsWith('.tf'))) {
    const j = await parse(f, readFileSync(join(infra, f), 'utf8'));
    for (const t of Object.keys(j.resource ?? {})) resources.add(t);
    for (const t of Object.keys(j.data ?? {})) data.add(t);
  }
  return { resources: [...resources].sort(), data: [...data].sort() };
}

/** key → expression, from the object literal `return {` … `};` that starts at `from`. */
function objectLiteral(src, from) {
  const start = src.indexOf('return {', from);
  const end = src.indexOf('\n    };', start) === -1 ? src.indexOf('};', start) : src.indexOf('};', start);
  const body = src.slice(start + 'return {'.length, end);
  const out = {};
  for (const m of body.matchAll(/^\s+([a-z0-9_]+): (.*),$/gm)) out[m[1]] = m[2];
  return out;
}

function schemaOf(src, attrs, depth = 0) {
  const out = {};
  for (const [key, expr] of Object.entries(attrs)) {
    const nested = /(?:listMapper\()?\b([a-z][A-Za-z0-9]*ToTerraform)\b/.exec(
      expr.replace(/cdktf\.\w+ToTerraform/g, ''),
    );
    if (nested && depth < 12) {
      const at = src.indexOf(`function ${nested[1]}(struct)`);
      out[key] = at === -1 ? true : schemaOf(src, objectLiteral(src, at), depth + 1);
    } else out[key] = true;
  }
  return out;
}

async function main() {
  const used = await usedTypes();
  const work = mkdtempSync(join(tmpdir(), 'provider-google-'));
  try {
    execFileSync('npm', ['pack', PACKAGE, '--pack-destination', work, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['xzf', join(work, tgz), '-C', work]);
    const lib = join(work, 'package', 'lib');
    const byType = { resource: {}, data: {} };
    for (const dir of readdirSync(lib)) {
      const file = join(lib, dir, 'index.js');
      if (!existsSync(file)) continue;
      const src = readFileSync(file, 'utf8');
      const m = /\.tfResourceType = "([a-z0-9_]+)";/.exec(src);
      if (m) byType[dir.startsWith('data-') ? 'data' : 'resource'][m[1]] = src;
    }
    const out = {
      provider: 'registry.terraform.io/hashicorp/google',
      version: '6.50.0',
      extractedFrom: PACKAGE,
      resource: {},
      data: {},
    };
    for (const [kind, types] of [
      ['resource', used.resources],
      ['data', used.data],
    ]) {
      for (const t of types) {
        const src = byType[kind][t];
        if (!src) throw new Error(`${kind} ${t} is not in ${PACKAGE}`);
        out[kind][t] = schemaOf(src, objectLiteral(src, src.indexOf('synthesizeAttributes()')));
      }
    }
    writeFileSync(join(infra, 'schema', 'google-provider.json'), `${JSON.stringify(out, null, 1)}\n`);
    process.stdout.write(
      `infra/schema/google-provider.json: ${used.resources.length} resources, ${used.data.length} data sources from ${PACKAGE}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
