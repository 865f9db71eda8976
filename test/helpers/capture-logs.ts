// Captures what the code under test logs (console.log / console.error lines),
// so a test can assert the shape of log lines and that no secret is in them.
export function captureLogs(): { lines(): string[]; restore(): void } {
  const captured: string[] = [];
  const { log, error, warn } = console;
  const keep = (...args: unknown[]) => captured.push(args.map(String).join(' '));
  console.log = keep;
  console.error = keep;
  console.warn = keep;
  return {
    lines: () => captured.flatMap((l) => l.split('\n')).filter((l) => l.trim() !== ''),
    restore: () => Object.assign(console, { log, error, warn }),
  };
}
