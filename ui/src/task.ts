// The task page: the stages from STARTED to COMPLETE (or EXPIRED/FAILED) on a
// time axis, the last heartbeat, each report as a mark inside or outside the
// provenance window (STARTED … UPLOAD_COMPLETE), findings where they happened;
// then the provenance state and the publication outcomes. The same events are
// listed in a table below the chart for keyboard and screen-reader users.
import { ApiError, getJson, paths } from './api';
import { h, pageLink, svg } from './dom';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const STAGES = ['STARTED', 'FETCH', 'COMPILE', 'UPLOAD', 'UPLOAD_COMPLETE', 'TEST', 'COMPLETE'];
/** Reports drawn at most (pages of the reports route); the count says when there are more. */
const MAX_REPORT_PAGES = 10;

interface Mark {
  at: number;
  kind: 'stage' | 'heartbeat' | 'report' | 'finding' | 'end';
  label: string;
  detail: string;
  inWindow?: boolean;
}

export async function taskPage(main: HTMLElement, taskId: string, reporter: string): Promise<void> {
  main.append(h('h1', {}, 'Task ', h('span', { class: 'data' }, taskId)));
  const status = h('p', { class: 'loading', role: 'status' }, 'Fetching the task…');
  main.append(status);
  let task: Obj;
  try {
    task = obj(await getJson(paths.task(taskId, reporter)));
  } catch (err) {
    status.remove();
    main.append(
      h(
        'div',
        { class: 'verdict bad', role: 'status' },
        h(
          'p',
          { class: 'verdict-title' },
          err instanceof ApiError && err.status === 404 ? 'No such task' : 'Could not read the task',
        ),
        h('p', { class: 'data' }, (err as Error).message),
      ),
    );
    main.setAttribute('data-state', 'error');
    return;
  }
  const reports = await fetchReports(taskId, reporter);
  status.remove();
  main.append(summary(task), provenanceState(task));
  main.append(timeline(task, reports));
  main.setAttribute('data-state', 'done');
}

async function fetchReports(
  taskId: string,
  reporter: string,
): Promise<{ marks: Obj[]; more: boolean; error?: string }> {
  const marks: Obj[] = [];
  let token: string | undefined;
  try {
    for (let page = 0; page < MAX_REPORT_PAGES; page++) {
      const body = obj(await getJson(paths.taskReports(taskId, reporter, token)));
      marks.push(...list(body.reports).map(obj));
      token = str(body.nextPageToken);
      if (!token) return { marks, more: false };
    }
    return { marks, more: true };
  } catch (err) {
    return { marks, more: false, error: (err as Error).message };
  }
}

function summary(task: Obj): HTMLElement {
  const dl = h('dl', { class: 'facts' });
  const add = (t: string, v: string | undefined) => {
    if (v !== undefined) dl.append(h('dt', {}, t), h('dd', {}, h('span', { class: 'data' }, v)));
  };
  add('Reporter', str(task.reporter));
  add('Reporter subject', str(task.reporterSubject));
  add('Stage', str(task.stage));
  add('Created', str(task.createdAt));
  add('Last heartbeat', str(task.lastHeartbeatAt));
  add('Ended', str(task.endedAt));
  add('Closed because', str(task.closedReason));
  const recovery = obj(task.recovery);
  if (task.recovery)
    add(
      'Recovery',
      `republished ${String(recovery.republished ?? 0)}×, assembly failures ${String(recovery.assemblyFailures ?? 0)}, interrupted ${String(recovery.assemblyInterrupted ?? 0)}`,
    );
  return dl;
}

function provenanceState(task: Obj): HTMLElement {
  const p = obj(task.provenance);
  const state = str(p.state) ?? 'none';
  const section = h(
    'section',
    { 'aria-labelledby': 'prov-h' },
    h(
      'h2',
      { id: 'prov-h' },
      'Provenance ',
      h(
        'span',
        { class: `badge ${state === 'signed' ? 'ok' : state === 'failed' ? 'bad' : 'wait'}`, id: 'prov-state' },
        state,
      ),
    ),
  );
  if (str(p.reason)) section.append(h('p', { class: 'data' }, str(p.reason)));
  if (state === 'signed') {
    section.append(
      h(
        'p',
        {},
        `Signed ${str(p.signedAt) ?? ''} by `,
        h('span', { class: 'data' }, str(p.keyId) ?? '(key not recorded)'),
      ),
    );
    const subjects = list(p.subjects).filter((s): s is string => typeof s === 'string');
    section.append(
      h(
        'ul',
        { class: 'subjects' },
        ...subjects.map((s) =>
          h(
            'li',
            {},
            /^sha256:[0-9a-f]{64}$/.test(s)
              ? pageLink(`#/artifacts/${s}`, h('span', { class: 'mono' }, s))
              : h('span', { class: 'data mono' }, s),
          ),
        ),
      ),
    );
  }
  const attachments = list(p.attachments).map(obj);
  if (attachments.length)
    section.append(
      h('h3', {}, 'Publication'),
      h(
        'ul',
        { class: 'attachments' },
        ...attachments.map((a) =>
          h(
            'li',
            {},
            h('span', { class: 'data' }, str(a.image) ?? ''),
            ': ',
            h('strong', { class: str(a.state) === 'attached' ? 'ok-text' : 'bad-text' }, str(a.state) ?? ''),
            str(a.error) ? h('span', { class: 'data' }, ` (${str(a.error) ?? ''})`) : null,
            ` at ${str(a.at) ?? ''}`,
          ),
        ),
      ),
    );
  return section;
}

function marksOf(task: Obj, reports: Obj[]): Mark[] {
  const t = (s: unknown) => (typeof s === 'string' ? Date.parse(s) : Number.NaN);
  const marks: Mark[] = [];
  const times = obj(task.stageTimes);
  for (const stage of STAGES) {
    const at = t(times[stage]);
    if (!Number.isNaN(at)) marks.push({ at, kind: 'stage', label: stage, detail: `entered ${stage}` });
  }
  const stage = str(task.stage);
  if ((stage === 'EXPIRED' || stage === 'FAILED') && !Number.isNaN(t(task.endedAt)))
    marks.push({ at: t(task.endedAt), kind: 'end', label: stage, detail: str(task.closedReason) ?? stage });
  if (!Number.isNaN(t(task.lastHeartbeatAt)))
    marks.push({
      at: t(task.lastHeartbeatAt),
      kind: 'heartbeat',
      label: 'heartbeat',
      detail: 'last heartbeat (the service keeps the latest)',
    });
  for (const f of list(task.findings).map(obj))
    if (!Number.isNaN(t(f.at)))
      marks.push({ at: t(f.at), kind: 'finding', label: str(f.code) ?? 'finding', detail: str(f.message) ?? '' });
  for (const r of reports)
    if (!Number.isNaN(t(r.receivedAt)) && str(r.finding))
      marks.push({
        at: t(r.receivedAt),
        kind: 'finding',
        label: str(r.finding) ?? 'finding',
        detail: `${str(r.name) ?? ''} was fetched after COMPILE began`,
      });
  for (const r of reports)
    if (!Number.isNaN(t(r.receivedAt)))
      marks.push({
        at: t(r.receivedAt),
        kind: 'report',
        label: `${str(r.kind) ?? 'report'}`,
        detail: str(r.name) ?? '',
        inWindow: r.inWindow === true,
      });
  return marks.sort((a, b) => a.at - b.at);
}

const W = 960;
const LEFT = 150;
const RIGHT = 90;
const ROW = 26;
const TOP = 24;

/** UTC time of day; with milliseconds when the whole task took under a minute. */
function clock(at: number, fine: boolean): string {
  return new Date(at).toISOString().slice(11, fine ? 23 : 19);
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/**
 * A Gantt-style chart: one row per stage (a bar from entering it to entering
 * the next), then a row each for reports, heartbeats and findings, over the
 * shaded provenance window.
 */
function timeline(task: Obj, reports: { marks: Obj[]; more: boolean; error?: string }): HTMLElement {
  const marks = marksOf(task, reports.marks);
  const stageMarks = marks.filter((m) => m.kind === 'stage' || m.kind === 'end');
  const times = marks.map((m) => m.at);
  const first = Math.min(...times);
  const last = Math.max(...times, first + 1);
  const pad = (last - first) * 0.02;
  const [start, end] = [first - pad, last + pad];
  const fine = last - first < 60_000;
  const x = (at: number) => LEFT + ((at - start) / (end - start)) * (W - LEFT - RIGHT);
  const stageTimes = obj(task.stageTimes);
  const windowStart = Date.parse(str(stageTimes.STARTED) ?? '');
  const windowEnd = Date.parse(str(stageTimes.UPLOAD_COMPLETE) ?? '') || last;
  const lanes = { report: stageMarks.length, heartbeat: stageMarks.length + 1, finding: stageMarks.length + 2 };
  const rowY = (i: number) => TOP + i * ROW + ROW / 2;
  const axisY = TOP + (stageMarks.length + 3) * ROW + 6;
  const H = axisY + 30;

  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'timeline',
    role: 'img',
    'aria-labelledby': 'tl-title',
    id: 'timeline',
  });
  chart.append(
    svg(
      'title',
      { id: 'tl-title' },
      `Timeline: ${stageMarks.map((m) => m.label).join(', ')}; ${reports.marks.length} reports`,
    ),
  );
  for (let i = 0; i < stageMarks.length + 3; i += 2)
    chart.append(svg('rect', { class: 'band', x: 0, y: TOP + i * ROW, width: W, height: ROW }));
  if (!Number.isNaN(windowStart))
    chart.append(
      svg('rect', {
        class: 'window',
        x: x(windowStart),
        y: TOP - 4,
        width: Math.max(1, x(windowEnd) - x(windowStart)),
        height: axisY - TOP + 4,
      }),
      svg('text', { class: 'window-label', x: x(windowStart) + 4, y: TOP - 8 }, 'provenance window'),
    );

  stageMarks.forEach((m, i) => {
    const next = stageMarks[i + 1]?.at;
    const y = rowY(i);
    const g = svg('g', { class: `stage stage-${m.label.toLowerCase()}`, 'data-stage': m.label });
    g.append(svg('text', { class: 'lane', x: 8, y: y + 4 }, m.label));
    if (next === undefined || m.kind === 'end') {
      // The last stage (COMPLETE, or where it stopped): a point in time.
      const cx = x(m.at);
      g.append(svg('path', { d: `M${cx} ${y - 8} L${cx + 8} ${y} L${cx} ${y + 8} L${cx - 8} ${y} Z` }));
      g.append(svg('text', { class: 'dur', x: cx + 12, y: y + 4 }, clock(m.at, fine)));
    } else {
      const w = Math.max(3, x(next) - x(m.at));
      g.append(svg('rect', { x: x(m.at), y: y - 8, width: w, height: 16 }));
      g.append(svg('text', { class: 'dur', x: x(m.at) + w + 6, y: y + 4 }, duration(next - m.at)));
    }
    g.append(
      svg('title', {}, `${m.label} at ${new Date(m.at).toISOString()}${m.kind === 'end' ? `: ${m.detail}` : ''}`),
    );
    chart.append(g);
  });
  for (const [lane, i] of Object.entries(lanes))
    chart.append(svg('text', { class: 'lane', x: 8, y: rowY(i) + 4 }, `${lane}s`));
  for (const m of marks) {
    const at = new Date(m.at).toISOString();
    if (m.kind === 'report')
      chart.append(
        svg(
          'rect',
          {
            class: `report ${m.inWindow ? 'in' : 'out'}`,
            x: x(m.at) - 1,
            y: rowY(lanes.report) - 9,
            width: 2,
            height: 18,
          },
          svg('title', {}, `${m.label} ${m.detail} at ${at} (${m.inWindow ? 'inside' : 'outside'} the window)`),
        ),
      );
    if (m.kind === 'heartbeat')
      chart.append(
        svg(
          'circle',
          { class: 'heartbeat', cx: x(m.at), cy: rowY(lanes.heartbeat), r: 6 },
          svg('title', {}, `last heartbeat at ${at}`),
        ),
      );
    if (m.kind === 'finding') {
      const cx = x(m.at);
      const y = rowY(lanes.finding);
      chart.append(
        svg(
          'path',
          { class: 'finding', d: `M${cx} ${y - 8} L${cx + 8} ${y + 7} L${cx - 8} ${y + 7} Z` },
          svg('title', {}, `${m.label}: ${m.detail} at ${at}`),
        ),
      );
    }
  }
  // The axis: five ticks, UTC.
  chart.append(svg('line', { class: 'axis-line', x1: LEFT, x2: W - RIGHT, y1: axisY, y2: axisY }));
  for (let i = 0; i <= 4; i++) {
    const at = first + ((last - first) * i) / 4;
    chart.append(
      svg('line', { class: 'tick', x1: x(at), x2: x(at), y1: axisY, y2: axisY + 6 }),
      svg(
        'text',
        { class: 'axis', x: x(at), y: axisY + 20, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' },
        clock(at, fine),
      ),
    );
  }
  chart.append(svg('text', { class: 'axis', x: 8, y: axisY + 20 }, 'UTC'));

  const inside = reports.marks.filter((r) => r.inWindow === true).length;
  const note = `${reports.marks.length} report(s)${reports.more ? ' (the first pages)' : ''}: ${inside} inside the provenance window, ${reports.marks.length - inside} outside.${reports.error ? ` Reports could not be read: ${reports.error}` : ''} The service keeps the latest heartbeat only.`;
  return h(
    'section',
    { 'aria-labelledby': 'tl-h' },
    h('h2', { id: 'tl-h' }, 'Timeline'),
    h('div', { class: 'chart' }, chart),
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'key window-key' }, 'provenance window'),
      h('span', { class: 'key in-key' }, 'report inside'),
      h('span', { class: 'key out-key' }, 'report outside'),
      h('span', { class: 'key hb-key' }, 'heartbeat'),
      h('span', { class: 'key finding-key' }, 'finding'),
    ),
    h('p', { id: 'report-count' }, note),
    eventsTable(
      marks
        .filter((m) => m.kind !== 'report')
        .concat(marks.filter((m) => m.kind === 'report').slice(0, 200))
        .sort((a, b) => a.at - b.at),
    ),
  );
}

function eventsTable(marks: Mark[]): HTMLElement {
  return h(
    'details',
    { class: 'events' },
    h('summary', {}, `Events as a table (${marks.length})`),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'time'),
          h('th', { scope: 'col' }, 'event'),
          h('th', { scope: 'col' }, 'detail'),
        ),
      ),
      h(
        'tbody',
        {},
        ...marks.map((m) =>
          h(
            'tr',
            { class: m.kind === 'finding' ? 'finding-row' : undefined },
            h('td', { class: 'mono' }, new Date(m.at).toISOString()),
            h(
              'td',
              { class: 'data' },
              m.kind === 'report' ? `${m.label} report (${m.inWindow ? 'inside' : 'outside'} window)` : m.label,
            ),
            h('td', { class: 'data' }, m.detail),
          ),
        ),
      ),
    ),
  );
}
