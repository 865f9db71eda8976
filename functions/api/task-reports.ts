// GET /v1/tasks/<task id>/reports?reporter=…[&pageSize=][&pageToken=]: one
// page of a task's content reports in receipt order, each with when the
// service first and last received it and whether it falls inside the
// provenance window (docs/buildtype-v1.md), for the task page's timeline and
// for audits. Bounded: at most MAX_PAGE_SIZE reports per answer, read with
// one query that reads only those; the page token (page-token.ts) is the last
// report's receipt time and id, checked like any other input.
import { ServiceError } from '../domain/errors.js';
import type { StoredReport } from '../domain/report.js';
import type { TaskRecord } from '../domain/task.js';
import { artifactName, fetchedAfterCompile, inWindow } from '../provenance/statement.js';
import type { TaskStore } from '../ports/task-store.js';
import { parseReportsPageToken, reportsPageToken } from './page-token.js';

export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 1000;

export interface ReportEntry {
  id: string;
  kind: string;
  /** What the report names: repo@commit, package@instance, the URI, the artifact. */
  name: string;
  receivedAt: string;
  lastReceivedAt: string;
  inWindow: boolean;
  /** FETCH_AFTER_COMPILE: a fetch first received after COMPILE began (the statement's rule). */
  finding?: 'FETCH_AFTER_COMPILE';
  report: unknown;
}

export interface ReportsPage {
  reports: ReportEntry[];
  nextPageToken?: string;
}

export async function taskReportsPage(
  tasks: TaskStore,
  task: TaskRecord,
  query: URLSearchParams,
): Promise<ReportsPage> {
  const size = pageSize(query.get('pageSize'));
  const after = parseReportsPageToken(query.get('pageToken'));
  const page = await tasks.reportsPage(task.key, size + 1, after);
  const shown = page.slice(0, size);
  const inside = new Set(inWindow(task, shown).map((r) => r.id));
  const last = shown[shown.length - 1];
  const late = fetchedAfterCompile(task);
  return {
    reports: shown.map((r) => ({
      id: r.id,
      kind: r.report.kind,
      name: describe(r),
      receivedAt: r.receivedAt.toISOString(),
      lastReceivedAt: r.lastReceivedAt.toISOString(),
      inWindow: inside.has(r.id),
      ...(inside.has(r.id) && late(r) ? { finding: 'FETCH_AFTER_COMPILE' as const } : {}),
      report: r.report,
    })),
    ...(page.length > size && last ? { nextPageToken: reportsPageToken(last) } : {}),
  };
}

function pageSize(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_PAGE_SIZE;
  if (!/^[0-9]{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE_SIZE)
    throw new ServiceError(
      'invalid_argument',
      `pageSize: must be a whole number from 1 to ${MAX_PAGE_SIZE}`,
      'pageSize',
    );
  return Number(raw);
}

function describe(r: StoredReport): string {
  const x = r.report;
  switch (x.kind) {
    case 'git':
      return `${x.repo}@${x.commit}`;
    case 'cipd':
      return `${x.packageName}@${x.instanceId}`;
    case 'gcs':
      return x.uri;
    case 'artifact':
      return `${artifactName(x)} sha256:${x.sha256}`;
  }
}
