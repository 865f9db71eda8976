// Debian's chromium, driven headless by puppeteer-core (which downloads no
// browser). Missing chromium is an error, never a skip: `.ci/apt-packages`
// installs it. Stopped by its PID.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RunningBrowser {
  browser: Browser;
  pid: number;
  stop(): Promise<void>;
}

export async function startChromium(): Promise<RunningBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (.ci/apt-packages) or set CHROMIUM_PATH`);
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace for the sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    defaultViewport: { width: 1280, height: 900 },
  });
  const pid = browser.process()?.pid;
  if (pid === undefined) throw new Error('chromium started without a process id');
  return {
    browser,
    pid,
    async stop() {
      await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(pid, 'SIGKILL'); // still there after close: end it by its PID
      } catch {
        // already gone
      }
    },
  };
}
