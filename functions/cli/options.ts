// Options and help pieces several commands share: the read side's --url and
// --token, the step commands' --url/--task/--audience/--timeout/--strict,
// repeatable options, durations, and the "Example:" block every command shows.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from './exit-codes.js';

/** The service URL the examples use. */
export const EXAMPLE_URL = 'https://self-report-abc123-uc.a.run.app';

/** The text after a command's --help: a real invocation. */
export const example = (lines: string) => `\nExample:\n${lines}\n`;

/** The read side's service: $PROVENANCE_URL, else a local `npm start`. */
export function defaultServiceUrl(): string {
  return process.env.PROVENANCE_URL || `http://localhost:${process.env.PORT || 8080}`;
}

export const urlOption = () =>
  new Option('--url <service>', 'the provenance service (env PROVENANCE_URL)').default(defaultServiceUrl());

export const tokenOption = () =>
  new Option('--token <token>', 'OIDC ID token for services without public reads (env PROVENANCE_TOKEN)').default(
    process.env.PROVENANCE_TOKEN,
  );

/** Commander's collector for a repeatable option: every value, in order. */
export const collectList = (v: string, all: string[] = []) => [...all, v];

/** "30s", "500ms", "2m" or plain seconds → ms. */
export function duration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${flag}: "${value}" is not a duration (e.g. 30s, 500ms, 2m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** A duration option's parser: commander reports a bad value as wrong usage, naming the option. */
export function parseDuration(value: string): number {
  try {
    return duration(value, 'duration');
  } catch {
    throw new InvalidArgumentError('expected a duration, e.g. 30s, 500ms, 2m');
  }
}

/** An integer option's parser, within [min, max]. */
export const parseIntegerIn = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected ${min} to ${max}`);
  return n;
};

/** What every build-step command takes (flags, else the environment). */
export interface StepOptions {
  url?: string;
  task?: string;
  audience?: string;
  /** ms */
  timeout: number;
  strict?: boolean;
}

export function withStepOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <service>', 'the provenance service (env PROVENANCE_URL)'))
    .addOption(new Option('--task <id>', "the task id (env PROVENANCE_TASK_ID, else Cloud Build's BUILD_ID)"))
    .addOption(new Option('--audience <aud>', 'audience of the ID token (env PROVENANCE_AUDIENCE; default: the URL)'))
    .addOption(
      new Option('--timeout <duration>', 'time budget per report, retries included')
        .argParser(parseDuration)
        .default(30_000, '30s'),
    )
    .option('--strict', 'exit 3 if the service stays unreachable (env PROVENANCE_STRICT=1); default: warn and exit 0');
}
