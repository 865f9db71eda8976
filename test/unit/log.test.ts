// The one logger's line shape, as Cloud Logging and Error Reporting read it:
// severity, message, the trace and span from the request's traceparent or
// X-Cloud-Trace-Context (both hostile input: strictly parsed, never copied),
// the function and the task from the context, and for an error its stack and
// ReportedErrorEvent @type. No line carries a token.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseCloudTraceContext,
  parseTraceparent,
  traceFromCloudEvent,
  traceFromHeaders,
} from '../../functions/api/trace-context.js';
import {
  addLogContext,
  log,
  logError,
  REPORTED_ERROR_EVENT,
  SAMPLED_FIELD,
  SPAN_FIELD,
  TRACE_FIELD,
  withLogContext,
} from '../../functions/log.js';
import { DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { RedeliveryRequested, redeliverOnFailure } from '../../functions/api/event-failure.js';
import { unavailable } from '../../functions/domain/errors.js';
import { AssemblyBusyError } from '../../functions/provenance/assembler.js';
import { captureLogs } from '../helpers/capture-logs.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE}-${SPAN}-01`;
const CLOUD_TRACE = '105445aa7843bc8bf206b12000100000';
const CLOUD_SPAN_DECIMAL = '1234567890123456789'; // 0x112210f47de98115

type Line = Record<string, unknown>;

/** The lines logged while `fn` runs, parsed (each must be one JSON object). */
async function linesOf(fn: () => unknown): Promise<Line[]> {
  const logs = captureLogs();
  try {
    await fn();
  } finally {
    logs.restore();
  }
  return logs.lines().map((l) => JSON.parse(l) as Line);
}

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n.toLowerCase()] ?? null });

describe('the line a request logs, per trace header', () => {
  const saved = { ...process.env };
  before(() => {
    process.env.GOOGLE_CLOUD_PROJECT = 'proj-1';
    delete process.env.GCLOUD_PROJECT;
    delete process.env.K_SERVICE;
    delete process.env.FUNCTION_TARGET;
  });
  after(() => {
    process.env = saved;
  });

  const requestLine = (h: Record<string, string>) =>
    linesOf(() =>
      withLogContext({ function: 'selfReport', trace: traceFromHeaders(headers(h)) }, () =>
        withLogContext({ taskId: 'build-1' }, () => log('INFO', 'task stage STARTED reported', { state: 'STARTED' })),
      ),
    ).then((lines) => {
      assert.equal(lines.length, 1);
      return lines[0] as Line;
    });

  const base = { severity: 'INFO', message: 'task stage STARTED reported', function: 'selfReport', taskId: 'build-1' };

  it('traceparent: the trace, its parent id as the span, the sampled flag', async () => {
    assert.deepEqual(await requestLine({ traceparent: TRACEPARENT }), {
      ...base,
      state: 'STARTED',
      [TRACE_FIELD]: `projects/proj-1/traces/${TRACE}`,
      [SPAN_FIELD]: SPAN,
      [SAMPLED_FIELD]: true,
    });
  });

  it('X-Cloud-Trace-Context: the trace, the decimal span id as 16 hex digits, o=1 as sampled', async () => {
    assert.deepEqual(await requestLine({ 'x-cloud-trace-context': `${CLOUD_TRACE}/${CLOUD_SPAN_DECIMAL};o=1` }), {
      ...base,
      state: 'STARTED',
      [TRACE_FIELD]: `projects/proj-1/traces/${CLOUD_TRACE}`,
      [SPAN_FIELD]: BigInt(CLOUD_SPAN_DECIMAL).toString(16).padStart(16, '0'),
      [SAMPLED_FIELD]: true,
    });
    assert.equal(BigInt(CLOUD_SPAN_DECIMAL).toString(16).padStart(16, '0'), '112210f47de98115');
  });

  it('both: traceparent wins', async () => {
    const line = await requestLine({
      traceparent: TRACEPARENT,
      'x-cloud-trace-context': `${CLOUD_TRACE}/${CLOUD_SPAN_DECIMAL};o=0`,
    });
    assert.equal(line[TRACE_FIELD], `projects/proj-1/traces/${TRACE}`);
    assert.equal(line[SPAN_FIELD], SPAN);
  });

  it('both, traceparent malformed: X-Cloud-Trace-Context is used', async () => {
    const line = await requestLine({
      traceparent: `00-${TRACE}-${SPAN}`,
      'x-cloud-trace-context': `${CLOUD_TRACE}/${CLOUD_SPAN_DECIMAL}`,
    });
    assert.equal(line[TRACE_FIELD], `projects/proj-1/traces/${CLOUD_TRACE}`);
    assert.equal(line[SPAN_FIELD], '112210f47de98115');
    assert.equal(SAMPLED_FIELD in line, false);
  });

  it('none: no trace fields, the rest unchanged', async () => {
    assert.deepEqual(await requestLine({}), { ...base, state: 'STARTED' });
  });

  it('malformed or hostile headers: as if absent, and never copied into the line', async () => {
    const hostile = [
      `00-${TRACE}-${SPAN}-01-extra`, // version 00 has four fields
      `ff-${TRACE}-${SPAN}-01`, // version ff is forbidden
      `00-${'0'.repeat(32)}-${SPAN}-01`, // all-zero trace id
      `00-${TRACE}-${'0'.repeat(16)}-01`, // all-zero parent id
      `00-${TRACE.toUpperCase()}-${SPAN}-01`, // uppercase hex
      `00-${TRACE}-${SPAN}-01\n{"severity":"CRITICAL"}`, // a line break to forge a log line
      `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`, // two headers joined
      `01-${TRACE}-${SPAN}-01-${'x'.repeat(300)}`, // over the length bound
      ' '.repeat(10),
      '',
    ];
    for (const value of hostile) {
      const line = await requestLine({ traceparent: value });
      assert.equal(TRACE_FIELD in line, false, value);
      assert.equal(JSON.stringify(line).includes('CRITICAL'), false);
    }
    const cloudHostile = [
      `${CLOUD_TRACE.slice(1)}/1;o=1`, // 31 digits
      `${'0'.repeat(32)}/1;o=1`, // all-zero trace
      `${CLOUD_TRACE}/18446744073709551616;o=1`, // span id over 2^64-1
      `${CLOUD_TRACE}/-1;o=1`,
      `${CLOUD_TRACE}/12ab;o=1`,
      `${CLOUD_TRACE}/1;o=1;evil=1`,
      `${CLOUD_TRACE}/1;o=1\r\nx: y`,
      `${CLOUD_TRACE}/${'1'.repeat(300)}`,
    ];
    for (const value of cloudHostile) {
      const line = await requestLine({ 'x-cloud-trace-context': value });
      assert.equal(TRACE_FIELD in line, false, value);
    }
  });

  it('a future traceparent version is read by its first four fields', () => {
    assert.deepEqual(parseTraceparent(`01-${TRACE}-${SPAN}-00-more`), { traceId: TRACE, spanId: SPAN, sampled: false });
  });

  it('X-Cloud-Trace-Context without a span or options, and with span 0', () => {
    assert.deepEqual(parseCloudTraceContext(CLOUD_TRACE), { traceId: CLOUD_TRACE });
    assert.deepEqual(parseCloudTraceContext(`${CLOUD_TRACE.toUpperCase()}/0;o=0`), {
      traceId: CLOUD_TRACE,
      sampled: false,
    });
    assert.deepEqual(parseCloudTraceContext(`${CLOUD_TRACE}/18446744073709551615`), {
      traceId: CLOUD_TRACE,
      spanId: 'ffffffffffffffff',
    });
  });

  it('a CloudEvent: its traceparent extension attribute, if valid', () => {
    assert.deepEqual(traceFromCloudEvent({ id: '1', traceparent: TRACEPARENT }), {
      traceId: TRACE,
      spanId: SPAN,
      sampled: true,
    });
    assert.equal(traceFromCloudEvent({ id: '1' }), undefined);
    assert.equal(traceFromCloudEvent({ id: '1', traceparent: 42 }), undefined);
    assert.equal(traceFromCloudEvent({ id: '1', traceparent: 'nonsense' }), undefined);
  });

  it('without a project id the trace cannot be named: no trace fields', async () => {
    delete process.env.GOOGLE_CLOUD_PROJECT;
    process.env.GCLOUD_PROJECT = 'proj-2';
    assert.equal((await requestLine({ traceparent: TRACEPARENT }))[TRACE_FIELD], `projects/proj-2/traces/${TRACE}`);
    delete process.env.GCLOUD_PROJECT;
    assert.equal(TRACE_FIELD in (await requestLine({ traceparent: TRACEPARENT })), false);
    process.env.GOOGLE_CLOUD_PROJECT = 'proj-1';
  });
});

describe('errors, context and secrets', () => {
  it('an error is an Error Reporting event: its stack in stack_trace, the ReportedErrorEvent @type', async () => {
    const thrown = new Error('firestore unavailable');
    const [line] = await linesOf(() =>
      withLogContext({ function: 'assembleProvenance', taskKey: 'k'.repeat(40) }, () =>
        logError('provenance event not sent', thrown, { type: 'provenance.signed' }),
      ),
    );
    assert.ok(line);
    assert.equal(line.severity, 'ERROR');
    assert.equal(line.message, 'provenance event not sent');
    assert.equal(line.error, 'firestore unavailable');
    assert.equal(line.stack_trace, thrown.stack);
    assert.match(line.stack_trace as string, /^Error: firestore unavailable\n\s+at /);
    assert.equal(line['@type'], REPORTED_ERROR_EVENT);
    assert.deepEqual(line.serviceContext, { service: 'assembleProvenance' });
    assert.equal(line.taskKey, 'k'.repeat(40));
    assert.equal(line.type, 'provenance.signed');
  });

  it('a thrown non-Error still gets a stack (where it was logged), so Error Reporting groups it', async () => {
    const [line] = await linesOf(() => log('ERROR', 'sweep failed', { error: 'socket hang up' }));
    assert.ok(line);
    assert.equal(line.error, 'socket hang up');
    assert.match(line.stack_trace as string, /^Error: socket hang up\n\s+at .*log\.test/);
    assert.equal(line['@type'], REPORTED_ERROR_EVENT);
  });

  it('a non-Error passed to logError gets a stack that starts where logError was called', async () => {
    const [line] = await linesOf(() => logError('publish failed', { code: 14 }));
    assert.ok(line);
    assert.match(line.stack_trace as string, /^Error: \{"code":14\}\n\s+at .*log\.test/);
  });

  it('a field JSON cannot hold does not stop the line', async () => {
    const cyclic: Record<string, unknown> = { name: 'c' };
    cyclic.self = cyclic;
    const [line] = await linesOf(() => log('INFO', 'still written', { cyclic, big: 10n, ok: 1 }));
    assert.ok(line);
    assert.equal(line.message, 'still written');
    assert.equal(line.ok, 1);
    assert.match(line.cyclic as string, /^\[not serialisable/);
    assert.match(line.big as string, /^\[not serialisable/);
  });

  it('a WARNING with an error keeps its message but stays out of Error Reporting', async () => {
    const [line] = await linesOf(() => log('WARNING', 'the sweep will', { error: new Error('busy') }));
    assert.ok(line);
    assert.equal(line.error, 'busy');
    assert.equal('stack_trace' in line, false);
    assert.equal('@type' in line, false);
  });

  it('ERROR and WARNING go to stderr, the rest to stdout', async () => {
    const seen: string[] = [];
    const { log: out, error: err } = console;
    console.log = () => seen.push('stdout');
    console.error = () => seen.push('stderr');
    try {
      for (const s of ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'] as const) log(s, s);
    } finally {
      Object.assign(console, { log: out, error: err });
    }
    assert.deepEqual(seen, ['stdout', 'stdout', 'stdout', 'stderr', 'stderr', 'stderr']);
  });

  it('a field cannot overwrite severity, message or the trace', async () => {
    process.env.GOOGLE_CLOUD_PROJECT = 'proj-1';
    const [line] = await linesOf(() =>
      withLogContext({ trace: { traceId: TRACE } }, () =>
        log('INFO', 'real', { severity: 'CRITICAL', message: 'forged', [TRACE_FIELD]: 'projects/x/traces/y' }),
      ),
    );
    assert.ok(line);
    assert.deepEqual(
      [line.severity, line.message, line[TRACE_FIELD]],
      ['INFO', 'real', `projects/proj-1/traces/${TRACE}`],
    );
    delete process.env.GOOGLE_CLOUD_PROJECT;
  });

  it('concurrent units of work keep their own task, and a task learnt inside stays inside', async () => {
    const lines = await linesOf(() =>
      withLogContext({ function: 'expireTasks' }, async () => {
        await Promise.all(
          ['a', 'b', 'c'].map((id, i) =>
            withLogContext({ taskKey: `key-${id}` }, async () => {
              await new Promise((r) => setTimeout(r, 3 - i));
              addLogContext({ taskId: `task-${id}` });
              await new Promise((r) => setImmediate(r));
              log('INFO', `visit ${id}`);
            }),
          ),
        );
        log('INFO', 'sweep done');
      }),
    );
    const byMessage = Object.fromEntries(lines.map((l) => [l.message, l]));
    for (const id of ['a', 'b', 'c']) {
      assert.equal(byMessage[`visit ${id}`]?.taskId, `task-${id}`);
      assert.equal(byMessage[`visit ${id}`]?.taskKey, `key-${id}`);
      assert.equal(byMessage[`visit ${id}`]?.function, 'expireTasks');
    }
    assert.equal('taskId' in (byMessage['sweep done'] ?? {}), false);
  });

  it('no token, ever: a JWT or a Bearer credential in any field is cut out', async () => {
    const token = DevIssuer.ephemeral().mint({ audience: 'https://a.test', email: 'builder@example.com' });
    const lines = await linesOf(() => {
      log('ERROR', `refused ${token}`, { error: new Error(`bad token ${token}`), header: `Bearer ${token}` });
      log('INFO', 'nested', { request: { authorization: `bearer ${'x'.repeat(40)}` } });
    });
    const text = JSON.stringify(lines);
    assert.equal(text.includes(token.split('.')[1] as string), false, text);
    assert.equal(text.includes(token.split('.')[2] as string), false, text);
    assert.equal(text.includes('x'.repeat(40)), false, text);
    assert.match(text, /\[redacted token\]/);
    assert.equal(lines.length, 2);
  });
});

describe('a CloudEvent that fails', () => {
  it('is logged through the logger first (WARNING when a redelivery cures it, ERROR with the stack otherwise), then thrown on as one short line', async () => {
    const cases: [unknown, string][] = [
      [new AssemblyBusyError('task k is being assembled by another delivery'), 'WARNING'],
      [unavailable('firestore getTask did not answer within 10s; retry'), 'WARNING'],
      [new TypeError('x is undefined'), 'ERROR'],
    ];
    for (const [thrown, severity] of cases) {
      let rethrown: unknown;
      const lines = await linesOf(() =>
        withLogContext({ function: 'assembleProvenance', trace: { traceId: TRACE, spanId: SPAN } }, () =>
          redeliverOnFailure(() => Promise.reject(thrown)).catch((e: unknown) => {
            rethrown = e;
          }),
        ),
      );
      assert.equal(lines.length, 1);
      const line = lines[0] as Line;
      assert.equal(line.severity, severity);
      assert.equal(line.error, (thrown as Error).message);
      assert.equal(line.function, 'assembleProvenance');
      assert.equal('stack_trace' in line, severity === 'ERROR');
      assert.ok(rethrown instanceof RedeliveryRequested);
      assert.equal(rethrown.cause, thrown);
      assert.equal(rethrown.stack?.includes('\n'), false, 'what functions-framework prints is one line');
    }
  });

  it('passes a success through untouched, logging nothing', async () => {
    let value: number | undefined;
    const lines = await linesOf(async () => {
      value = await redeliverOnFailure(async () => 7);
    });
    assert.deepEqual([lines, value], [[], 7]);
  });
});
