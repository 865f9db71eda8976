// `provenance run -- <command>`: the command as a task (see ../run.ts for the
// order of STARTED and the command, signals and the watchdog).
import { type Command, Option } from 'commander';
import { runWrapped } from '../run.js';
import { collectList, EXAMPLE_URL, example, parseDuration, type StepOptions, withStepOptions } from '../options.js';
import { stepContext } from '../step-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { collectAndReport } from './collect.js';

interface RunCommandOptions extends StepOptions {
  recipe?: string;
  heartbeat: number;
  configSourceUri?: string;
  configSourceDigest?: string[];
  configSourceEntryPoint?: string;
  collect?: string;
}

export function registerRunCommand(program: Command): void {
  withStepOptions(program.command('run'))
    .description(
      'run a build command as a task: STARTED before it starts, heartbeats while it runs, COMPLETE when it ends; its exit code passes through',
    )
    .option('--recipe <recipe>', "the build's entry point (default: the command line)")
    .addOption(
      new Option('--heartbeat <duration>', 'how often to send a heartbeat')
        .argParser(parseDuration)
        .default(30_000, '30s'),
    )
    .option('--config-source-uri <uri>', 'where the build configuration came from')
    .option('--config-source-digest <alg:hex>', 'its digest (repeatable)', collectList)
    .option('--config-source-entry-point <path>', 'the file within it')
    .option('--collect <dir>', 'after the command succeeds, report the artifacts listed in this outputs folder')
    .argument('<command...>', 'the command and its arguments, after --')
    .addHelpText(
      'after',
      `${example(
        `  provenance run --url ${EXAMPLE_URL} --recipe cloudbuild.yaml --collect /builder/outputs -- make release`,
      )}\nThe command starts only once STARTED was answered (or --timeout ran out). SIGHUP, SIGINT, SIGQUIT and\nSIGTERM are passed on to it; if \`run\` dies, a watchdog stops it. Needs /bin/sh.\n`,
    )
    .action(async (command: string[], o: RunCommandOptions) => {
      const ctx = stepContext(o);
      process.exitCode = await runWrapped({
        command,
        ...(o.recipe !== undefined ? { recipe: o.recipe } : {}),
        heartbeatMs: o.heartbeat,
        stage: {
          ...(o.configSourceUri ? { configSourceUri: o.configSourceUri } : {}),
          ...(o.configSourceDigest ? { configSourceDigest: o.configSourceDigest } : {}),
          ...(o.configSourceEntryPoint ? { configSourceEntryPoint: o.configSourceEntryPoint } : {}),
        },
        ...(o.collect !== undefined ? { collectDir: o.collect } : {}),
        reporterPath: process.argv[1] ?? 'provenance',
        childEnv: ctx.env,
        reporter: ctx.reporter,
        collect: async (dir) => {
          const code = await collectAndReport(ctx.reporter, dir);
          if (code !== EXIT.ok) throw new CliError(`collect ${dir} failed`, code);
        },
      });
    });
}
