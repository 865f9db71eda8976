// `provenance policy check FILE`: a policy file's every problem, each with its
// line and column, before a pipeline depends on it. Key files (pem, keySet)
// are read and parsed too; key-set URLs are checked for form only (no fetch).
import type { Command } from 'commander';
import type { PolicyProblem } from '../../verify/policy-file.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readAtMost } from '../flag-file.js';
import { sha256Hex } from '../../domain/digest.js';

export function registerPolicyCommand(program: Command): void {
  const policy = program.command('policy').description('deploy-gate policy files (docs/gating.md)');
  policy
    .command('check')
    .description('check a policy file: every problem with its line and column; exit 1 if there is any')
    .argument('<file>', 'the policy file (YAML or JSON, apiVersion build-provenance/policy/v1)')
    .option('--json', 'print the problems as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  provenance policy check examples/policy.yaml\n\nExit codes: 0 valid; 1 the file has problems (each printed as FILE:LINE:COLUMN: field: problem); 2 wrong usage.\n',
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      // Loaded on use: the YAML parser is not on every command's start-up path (build steps run this CLI often).
      const [{ formatProblem, parsePolicyFile, MAX_POLICY_BYTES }, { policyKeys }] = await Promise.all([
        import('../../verify/policy-file.js'),
        import('../policy-load.js'),
      ]);
      const bytes = readAtMost(file, MAX_POLICY_BYTES + 1, '');
      const parsed = parsePolicyFile(bytes.toString('utf8'));
      const problems: PolicyProblem[] = 'problems' in parsed ? parsed.problems : [];
      if ('policy' in parsed) {
        // Local key files must exist and hold keys; URLs are fetched only when verifying.
        const local = { ...parsed.policy, keys: parsed.policy.keys.filter((k) => k.kind !== 'url') };
        const sha256 = sha256Hex(bytes);
        for (const source of local.keys) {
          try {
            await policyKeys({ path: file, sha256, file: { ...local, keys: [source] } });
          } catch (err) {
            const message = (err as Error).message.replace(/^.*?: keys: /, '');
            problems.push({ field: 'keys', ...source.at, message });
          }
        }
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: problems.length === 0, file, problems })}\n`);
      if (problems.length) {
        if (!opts.json) process.stderr.write(problems.map((p) => `${formatProblem(file, p)}\n`).join(''));
        throw new CliError(`${file}: ${problems.length} problem(s)`, EXIT.refused);
      }
      if (!opts.json && 'policy' in parsed)
        process.stdout.write(`${file}: a valid policy (${summary(parsed.policy.positions)})\n`);
    });
}

/** The rules the file states, by their names in the file. */
function summary(positions: Record<string, unknown>): string {
  const fields = Object.keys(positions).filter((k) => !k.includes('[') && k !== 'apiVersion' && k !== 'keys');
  return fields.length ? `keys and ${fields.join(', ')}` : 'keys only: signature and digest';
}
