// cloudbuild.yaml (the project's own pipeline) and examples/cloudbuild.yaml
// parse; every script and file they call exists in the repository (or is made
// by an npm script before it is used); every `provenance` invocation in them
// parses with the CLI's own argument parser (options, arguments, required
// options), so a renamed flag fails here and not in a deploy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Command, CommanderError } from 'commander';
import { program } from '../../functions/cli/main.js';

const root = join(__dirname, '..', '..', '..');
/** Files the pipeline makes with npm scripts before it uses them. */
const MADE = { 'dist/provenance.cjs': 'npm run bundle', 'dist/function-source.zip': 'npm run package' };

interface Step {
  id?: string;
  name: string;
  entrypoint?: string;
  args?: string[];
}

function dryRun(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  cmd.action(() => undefined);
  for (const c of cmd.commands) dryRun(c);
}
dryRun(program);

/** Words of one shell command line (quotes honoured; enough for these files). */
function words(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Every `provenance …` invocation in a step, substitutions replaced by sample values. */
function invocations(step: Step, substitutions: Record<string, string>): string[][] {
  const sub = (s: string) =>
    s
      .replace(/\$\{(\w+)\}/g, (_, k: string) => substitutions[k] ?? 'x')
      .replace(/\$\$?\(([^)]*)\)/g, 'x')
      .replace(/\$\$\w+/g, 'x');
  const found: string[][] = [];
  const args = (step.args ?? []).map(sub);
  if (step.entrypoint === 'node' && args[0]?.endsWith('provenance.cjs')) found.push(args.slice(1));
  if (step.entrypoint === 'bash' || step.entrypoint === 'sh') {
    const script = args
      .slice(1)
      .join('\n')
      .replace(/\\\n\s*/g, ' ');
    for (const raw of script.split(/\n|&&|\|\|/)) {
      const w = words(raw.trim());
      const at = w.findIndex((x) => x.endsWith('provenance.cjs') || x === 'provenance');
      if (at >= 0 && (w[at - 1] === 'node' || w[at] === 'provenance'))
        found.push(w.slice(at + 1).filter((x) => x !== ';'));
    }
  }
  return found;
}

for (const file of ['cloudbuild.yaml', 'examples/cloudbuild.yaml']) {
  describe(file, () => {
    const doc = parse(readFileSync(join(root, file), 'utf8')) as {
      steps: Step[];
      substitutions?: Record<string, string>;
    };
    const subs = {
      PROJECT_ID: 'my-project',
      BUILD_ID: 'b-1',
      COMMIT_SHA: 'a'.repeat(40),
      SHORT_SHA: 'aaaaaaa',
      BRANCH_NAME: 'main',
      ...doc.substitutions,
    };

    it('parses, and every step names an image', () => {
      assert.ok(doc.steps.length >= 5);
      for (const s of doc.steps) assert.ok(typeof s.name === 'string' && s.name.length > 0, JSON.stringify(s));
    });

    it('calls only scripts and files that exist (or that an npm script makes first)', () => {
      const text = JSON.stringify(doc.steps);
      const refs = new Set(
        [...text.matchAll(/(?<![\w/.-])((?:scripts|infra|\.ci|bin|dist|examples|docs)\/[\w./${}-]+)/g)].map((m) =>
          m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => (subs as Record<string, string>)[k] ?? k),
        ),
      );
      for (const tfvars of [...text.matchAll(/-var-file=([\w./${}-]+)/g)].map((m) =>
        m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => (subs as Record<string, string>)[k] ?? k),
      ))
        refs.add(`infra/${tfvars}`);
      const npmScripts = (
        JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
      ).scripts;
      for (const m of text.matchAll(/npm run ([\w:-]+)/g))
        assert.ok(npmScripts[m[1]!], `npm run ${m[1]} is not a script`);
      if (text.includes('.ci/run')) refs.add('.ci/run');
      for (const ref of refs) {
        if (ref in MADE) {
          assert.ok(
            text.includes(MADE[ref as keyof typeof MADE]),
            `${ref} is used but "${MADE[ref as keyof typeof MADE]}" never runs`,
          );
          continue;
        }
        if (ref.startsWith('dist/') || ref.endsWith('.tfplan')) continue;
        assert.ok(existsSync(join(root, ref)), `${file} refers to ${ref}, which does not exist`);
      }
    });

    it('invokes the CLI only in ways its own parser accepts', () => {
      const all = doc.steps.flatMap((s) => invocations(s, subs as Record<string, string>));
      assert.ok(all.length >= 4, `found ${all.length} invocations`);
      for (const argv of all) {
        try {
          program.parse(argv, { from: 'user' });
        } catch (err) {
          if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') continue;
          assert.fail(`provenance ${argv.join(' ')}: ${(err as Error).message}`);
        }
      }
    });

    it('refuses a wrong invocation (the check can fail)', () => {
      assert.throws(() => program.parse(['report', 'artifact', '--no-such-flag'], { from: 'user' }), CommanderError);
    });
  });
}
