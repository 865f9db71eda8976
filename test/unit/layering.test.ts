// The import graph points one way: entry → app → api → lifecycle → provenance
// → ports → domain; adapters implement ports; the domain imports no SDK. Every
// import of every functions/**/*.ts (gen/ aside) is read from the source —
// type-only imports included: a port that names a type from provenance/ still
// depends on it — and checked against LAYERS. A new folder under functions/
// fails until it is given a layer here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const FUNCTIONS = join(ROOT, 'functions');

type Layer =
  | 'domain'
  | 'ports'
  | 'provenance'
  | 'verify'
  | 'lifecycle'
  | 'api'
  | 'adapters'
  | 'config'
  | 'app'
  | 'entry'
  | 'local'
  | 'cli'
  | 'gen'
  | 'shared';

/** Packages that do I/O or talk to a cloud: only adapters, the composition roots and the CLI load them. */
const IO_PACKAGES =
  /^(@google-cloud\/|google-auth-library$|google-gax$|@grpc\/|@sigstore\/oci$|node:(fs|net|http|https|http2|child_process|dgram|dns)(\/|$))/;

interface Rule {
  /** Layers this one may import from (itself included where listed). */
  imports: readonly Layer[];
  /** Whether a package import is allowed (node: builtins and npm packages). */
  packages: (specifier: string) => boolean;
  why: string;
}

const noPackages = () => false;
const onlyBuiltins = (s: string) => s.startsWith('node:') && !IO_PACKAGES.test(s);
const noIo = (s: string) => !IO_PACKAGES.test(s);
const anything = () => true;

const LAYERS: Record<Layer, Rule> = {
  domain: {
    imports: ['domain'],
    // @sigstore/core: a pure encoding library (canonical JSON, DSSE PAE), no I/O, no SDK.
    packages: (s) => onlyBuiltins(s) || s === '@sigstore/core' || s.startsWith('@sigstore/core/'),
    why: 'the domain imports no SDK and nothing from the layers above it',
  },
  ports: {
    imports: ['ports', 'domain'],
    packages: noPackages,
    why: 'ports name domain types (and the pure rules every implementation shares)',
  },
  provenance: {
    // verify/: provenance/verify.ts keeps its exports by re-exporting the verification engine.
    imports: ['provenance', 'verify', 'ports', 'domain', 'shared'],
    packages: noIo,
    why: 'the statement format, DSSE and the assembler work through ports, no I/O of their own',
  },
  verify: {
    imports: ['verify', 'provenance', 'ports', 'domain', 'shared'],
    packages: noIo,
    why: 'the verification engine does no I/O',
  },
  lifecycle: {
    imports: ['lifecycle', 'provenance', 'ports', 'domain', 'shared'],
    packages: noIo,
    why: 'ingestion, the sweep and re-drive work through ports',
  },
  api: {
    imports: ['api', 'lifecycle', 'provenance', 'verify', 'ports', 'domain', 'gen', 'shared'],
    // The HTTP edge may read its own static files; it never loads a cloud SDK or an adapter.
    packages: (s) => !IO_PACKAGES.test(s) || s === 'node:fs' || s === 'node:http',
    why: 'the HTTP/Connect edge turns requests into domain values and calls use cases, never an adapter',
  },
  adapters: {
    // gen/: messages generated from a remote API's protos, for the adapter that calls it.
    imports: ['adapters', 'ports', 'domain', 'gen', 'shared'],
    packages: anything,
    why: 'adapters implement ports; they never reach up into use cases, the edge or the wiring',
  },
  config: {
    imports: ['domain', 'ports', 'shared'],
    packages: noPackages,
    why: 'configuration parses the environment into domain and port values (and may warn in the log), nothing more',
  },
  app: {
    imports: [
      'app',
      'config',
      'api',
      'lifecycle',
      'provenance',
      'verify',
      'adapters',
      'ports',
      'domain',
      'gen',
      'shared',
    ],
    packages: anything,
    why: 'the composition root wires everything below it',
  },
  entry: {
    imports: ['entry', 'app', 'config', 'api', 'shared'],
    packages: (s) => s === '@google-cloud/functions-framework' || !IO_PACKAGES.test(s),
    why: 'entry points are thin: build from config through app/, delegate to api/',
  },
  local: {
    imports: ['local', 'app', 'config', 'api', 'lifecycle', 'provenance', 'adapters', 'ports', 'domain', 'shared'],
    packages: anything,
    why: 'npm start is a second composition root (one port, in-process events)',
  },
  cli: {
    // The CLI is its own program: it validates with api/'s validators, verifies with provenance/
    // and verify/, and mints dev tokens with the dev issuer adapter (provenance dev-token).
    imports: ['cli', 'api', 'verify', 'provenance', 'ports', 'domain', 'adapters', 'gen', 'shared'],
    packages: anything,
    why: 'the CLI uses the service code as a library, never its wiring or entry points',
  },
  gen: { imports: ['gen'], packages: (s) => s.startsWith('@bufbuild/protobuf'), why: 'generated from proto/' },
  shared: { imports: [], packages: onlyBuiltins, why: 'logging and lazy loading are used everywhere' },
};

/**
 * Single imports allowed against their layers' rules, each with its reason
 * ("<file> → <file or package>", paths relative to functions/). Keep it short:
 * an entry no file needs any more fails the test.
 */
const EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [];

const excepted = (from: string, to: string) => EXCEPTIONS.some((e) => e.from === from && e.to === to);

/** The layer of a path relative to functions/ (posix separators), or undefined if it has none. */
function layerOf(path: string): Layer | undefined {
  if (path === 'config.ts') return 'config';
  if (path === 'log.ts' || path === 'lazy.ts') return 'shared';
  if (path === 'index.ts') return 'entry';
  const dir = path.split('/')[0] ?? '';
  return dir in LAYERS && path.includes('/') ? (dir as Layer) : undefined;
}

/** Module specifiers a TypeScript source imports: static, type-only, re-exports, side-effect, dynamic. */
function importsOf(source: string): string[] {
  // Comments out first, so an example in a comment is not an import; a string
  // that looks like a comment is rare enough in import position not to matter.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1] as string);
  return found;
}

/** Every import that breaks LAYERS, as "<file>: <why> (imports <target>)". */
function violations(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, source] of files) {
    if (file.startsWith('gen/')) continue;
    const layer = layerOf(file);
    if (!layer) {
      out.push(`${file}: in no layer (give its folder a layer in test/unit/layering.test.ts)`);
      continue;
    }
    const rule = LAYERS[layer];
    for (const spec of importsOf(source)) {
      if (!spec.startsWith('.')) {
        if (!rule.packages(spec) && !excepted(file, spec))
          out.push(`${file}: ${layer} may not load the package ${spec} — ${rule.why}`);
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (target.startsWith('../')) {
        out.push(`${file}: imports ${spec}, outside functions/`);
        continue;
      }
      const to = layerOf(target);
      if (excepted(file, target)) continue;
      if (!to) out.push(`${file}: imports ${target}, which is in no layer`);
      else if (!rule.imports.includes(to)) out.push(`${file}: ${layer} may not import ${to} (${target}) — ${rule.why}`);
    }
  }
  return out;
}

function sources(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(dir, full).split(sep).join('/'), readFileSync(full, 'utf8'));
  }
  return files;
}

describe('layering', () => {
  it('every import in functions/ points the allowed way', () => {
    const files = sources(FUNCTIONS);
    assert.ok(files.size > 50, `read ${files.size} files`);
    assert.deepEqual(violations(files), []);
    for (const e of EXCEPTIONS) {
      const used = importsOf(files.get(e.from) ?? '').some(
        (spec) => spec === e.to || posix.join(posix.dirname(e.from), spec).replace(/\.js$/, '.ts') === e.to,
      );
      assert.ok(used, `EXCEPTIONS: ${e.from} no longer imports ${e.to}; remove the entry`);
    }
  });

  it('finds every kind of import', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {',
      '  c,',
      '  type D,',
      "} from './cd.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "import './side-effect.js';",
      "const g = await import('./g.js');",
      "// import { no } from './commented.js';",
      "/* import { no } from './block-commented.js'; */",
    ].join('\n');
    assert.deepEqual(importsOf(src).sort(), [
      '../b.js',
      './a.js',
      './cd.js',
      './e.js',
      './f.js',
      './g.js',
      './side-effect.js',
    ]);
  });

  it('reports the slips it exists to catch', () => {
    const cases: [string, string, RegExp][] = [
      // A port naming a type that lives in provenance/ (the Envelope slip).
      ['ports/store.ts', "import type { Envelope } from '../provenance/dsse.js';", /ports may not import provenance/],
      // The domain reaching for a port or an SDK.
      ['domain/x.ts', "import type { Clock } from '../ports/clock.js';", /domain may not import ports/],
      ['domain/x.ts', "import { Firestore } from '@google-cloud/firestore';", /may not load the package/],
      // Configuration importing an adapter for a constant.
      ['config.ts', "import { DEV_DEFAULT_EMAIL } from './adapters/dev-issuer.js';", /config may not import adapters/],
      // Use cases and the edge reaching an adapter, adapters reaching up.
      [
        'provenance/x.ts',
        "import { KmsSigner } from '../adapters/kms-signer.js';",
        /provenance may not import adapters/,
      ],
      ['api/x.ts', "const m = await import('../adapters/pubsub-publisher.js');", /api may not import adapters/],
      ['adapters/x.ts', "import { buildAssembler } from '../app/compose.js';", /adapters may not import app/],
      ['adapters/x.ts', "import type { UnaryImpl } from '../api/connect-endpoint.js';", /adapters may not import api/],
      [
        'entry/x.ts',
        "import { MemoryTaskStore } from '../adapters/memory-task-store.js';",
        /entry may not import adapters/,
      ],
      ['lifecycle/x.ts', "import { send } from '../api/http.js';", /lifecycle may not import api/],
      [
        'provenance/x.ts',
        "import { TaskSweeper } from '../lifecycle/sweep.js';",
        /provenance may not import lifecycle/,
      ],
      ['provenance/x.ts', "import { readFileSync } from 'node:fs';", /may not load the package node:fs/],
      ['api/x.ts', "import { cli } from '../cli/main.js';", /api may not import cli/],
      ['newfolder/x.ts', "import { a } from '../domain/task.js';", /in no layer/],
    ];
    for (const [file, src, expected] of cases) {
      const found = violations(new Map([[file, src]]));
      assert.equal(found.length, 1, `${file}: ${src} → ${found.join('; ')}`);
      assert.match(found[0] as string, expected);
    }
    // And the same imports the right way round pass.
    const fine: [string, string][] = [
      ['provenance/x.ts', "import type { Envelope } from '../ports/envelope.js';"],
      ['adapters/x.ts', "import type { TaskStore } from '../ports/task-store.js';"],
      ['app/x.ts', "const m = await import('../adapters/pubsub-publisher.js');"],
      ['domain/x.ts', "import { createHash } from 'node:crypto';"],
      ['entry/x.ts', "import { http } from '@google-cloud/functions-framework';"],
    ];
    for (const [file, src] of fine) assert.deepEqual(violations(new Map([[file, src]])), [], `${file}: ${src}`);
  });
});
