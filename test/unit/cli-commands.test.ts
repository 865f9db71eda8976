// The `provenance` CLI as a set of commands: the documented command list
// (docs/cli.md, else README.md's "### Commands") matches the parser's own
// commands and options, every command's --help has a real example, and
// mutually exclusive options are refused by the parser, exit 2.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { program } from '../../functions/cli/main.js';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'provenance.js');
/** Options every build-step command takes, documented once below the list. */
const STEP_COMMON = ['--url', '--task', '--audience', '--timeout', '--strict'];

/** Every runnable command as its words ("report stage"), with its options' flags ([long, short]). */
function leaves(cmd: Command, prefix: string[] = []): Map<string, string[][]> {
  const out = new Map<string, string[][]>();
  for (const c of cmd.commands) {
    const words = [...prefix, c.name()];
    if (c.commands.length) for (const [k, v] of leaves(c, words)) out.set(k, v);
    else
      out.set(
        words.join(' '),
        c.options.map((o) => [o.long ?? '', ...(o.short ? [o.short] : [])]).filter(([l]) => l && l !== '--help'),
      );
  }
  return out;
}

/** The documented invocations: `provenance …` lines of the fenced blocks (continuation lines joined). */
function documented(): { file: string; commands: Map<string, string> } {
  const cli = join(root, 'docs', 'cli.md');
  const file = existsSync(cli) ? cli : join(root, 'README.md');
  let text = readFileSync(file, 'utf8');
  if (file.endsWith('README.md')) text = text.slice(text.indexOf('### Commands'));
  const commands = new Map<string, string>();
  let fenced = false;
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) {
      fenced = !fenced;
      last = undefined;
      continue;
    }
    if (!fenced) continue;
    const m = /^provenance ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)*)(.*)$/.exec(line);
    if (m) {
      last = m[1]!;
      commands.set(last, `${commands.get(last) ?? ''} ${m[2]}`);
    } else if (last && /^\s+\S/.test(line)) commands.set(last, `${commands.get(last)} ${line}`);
    else last = undefined;
  }
  return { file, commands };
}

it('documents exactly the commands the parser has, each with exactly its options', () => {
  const real = leaves(program);
  const { file, commands } = documented();
  assert.deepEqual([...commands.keys()].sort(), [...real.keys()].sort(), `the command list in ${file}`);
  for (const [name, options] of real) {
    const line = commands.get(name) ?? '';
    const shown = new Set([...line.matchAll(/(?<![\w-])--?[a-z][a-z-]*[a-z]?(?![\w-])/g)].map((m) => m[0]));
    const step = STEP_COMMON.every((o) => options.some(([long]) => long === o));
    const expected = options.filter(([long]) => !(step && STEP_COMMON.includes(long!)));
    for (const flags of expected)
      assert.ok(
        flags.some((f) => shown.has(f)),
        `provenance ${name}: ${flags[0]} is not in ${file}`,
      );
    for (const f of shown)
      assert.ok(
        options.some((flags) => flags.includes(f)),
        `provenance ${name}: ${file} shows ${f}, which the command does not have`,
      );
  }
});

it('every command has --help with a real example', () => {
  for (const [name] of leaves(program)) {
    // verify's help moves with it to commands/verify.ts, on another branch.
    if (name === 'verify') continue;
    const r = spawnSync(process.execPath, [bin, ...name.split(' '), '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, name);
    assert.match(r.stdout, /\nExample:\n {2}(provenance|export|cat|echo|curl) /, name);
  }
});

it('refuses mutually exclusive options with the parser, exit 2, naming both', () => {
  const env = { ...process.env, PROVENANCE_URL: 'http://127.0.0.1:9', PROVENANCE_TASK_ID: 't' };
  const sha = 'ab'.repeat(32);
  const cases: [string[], RegExp][] = [
    [
      ['report', 'artifact', '--digest', sha, '--file', 'x', '--gcs', 'gs://b/o'],
      /--digest .* cannot be used with .*--file/,
    ],
    [
      ['report', 'artifact', '--digest', sha, '--gcs', 'gs://b/o', '--oci', 'r/i'],
      /--gcs .* cannot be used with .*--oci/,
    ],
    [
      ['report', 'artifact', '--digest', sha, '--oci', 'r/i', '--instance-id', 'x'],
      /--instance-id .* cannot be used with .*--oci/,
    ],
    [
      ['report', 'git', '--from-checkout', '.', '--repo', 'https://github.com/x/y'],
      /--from-checkout .* cannot be used with .*--repo/,
    ],
    [['fetch', `sha256:${sha}`, '--format', 'zip'], /--format.*Allowed choices are envelope, bundle/],
    [['report', 'batch', '--concurrency', '0'], /--concurrency.*expected 1 to 64/],
    [['run', '--heartbeat', 'soon', '--', 'true'], /--heartbeat.*expected a duration/],
    [['dev-token', '--lifetime', '7200'], /--lifetime.*expected 1 to 3600/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
