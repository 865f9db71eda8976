// `provenance keys`: the service's public signing key(s) as PEM, for `verify --key`.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ReadApiClient } from '../read-client.js';
import { example, urlOption } from '../options.js';

export function registerKeysCommand(program: Command): void {
  program
    .command('keys')
    .description("print the service's public signing key(s) as PEM, for `verify --key`")
    .addOption(urlOption())
    .option('-o, --output <file>', 'write the PEM here instead of stdout')
    .addHelpText(
      'after',
      example('  provenance keys --url https://provenance-api-abc123-uc.a.run.app -o provenance-key.pem'),
    )
    .action(async (opts: { url: string; output?: string }) => {
      const keys = await new ReadApiClient(opts.url).keys();
      const pem = keys.map((k) => `# ${k.keyId} (${k.algorithm})\n${k.pem.trim()}\n`).join('');
      if (opts.output) writeFileSync(opts.output, pem);
      else process.stdout.write(pem);
    });
}
