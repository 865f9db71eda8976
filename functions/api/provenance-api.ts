// The read API for release tooling (provenanceApi, and npm start on the same
// port as the reports):
//   GET /v1/artifacts/sha256:<hex>/provenance      envelopes naming that subject (ndjson), a page at a
//                                                   time: the next page's URL is in the Link header
//   GET /v1/tasks/<task id>?reporter=<email>        the task's status (JSON)
//   GET /v1/tasks/<task id>/provenance?reporter=…   the task's envelopes (ndjson)
//   GET /v1/tasks/<task id>/reports?reporter=…      a page of the task's reports, receipt times (JSON)
//   …/bundle beside each …/provenance               the same envelopes as Sigstore bundles v0.3 (ndjson)
//   GET /v1/keys                                    public keys [{keyId, algorithm, pem}]
//   POST /v1/tasks/<task id>/redrive?reporter=…     operators: send a FAILED task back to assembly
// Reads need an OIDC token of an identity on the reader allowlist, unless the
// service is configured for public reads. Public keys are always public. A
// re-drive always needs the token of an identity on the operator allowlist.
// Envelopes are streamed from where they are stored (Firestore: chunk by
// chunk), with their content-length known from the records; HEAD answers the
// length a GET would send.
import { notFound, permissionDenied, ServiceError } from '../domain/errors.js';
import { payloadLength } from '../ports/envelope-shape.js';
import { bundleFrame, payloadOf } from '../provenance/envelope-frame.js';
import { taskStatus } from '../provenance/status.js';
import type { IdentityVerifier } from '../ports/identity.js';
import type { ProvenanceStore, StoredEnvelope } from '../ports/provenance-store.js';
import { parseSubjectPageToken, subjectPageToken } from './page-token.js';
import type { PublicKeyInfo } from '../ports/signer.js';
import type { TaskStore } from '../ports/task-store.js';
import { toConnectError } from './errors.js';
import type { TaskRedriver } from '../lifecycle/redrive.js';
import { authorizeReader, bearerIdentity, type ReadAccess } from './bearer.js';
import { errorResponse } from './connect-endpoint.js';
import {
  headOf,
  jsonResponse,
  type HeaderReader,
  type HttpHandler,
  type HttpRequest,
  type HttpResponse,
} from './http.js';
import * as fields from './validate/fields.js';
import { taskReportsPage } from './task-reports.js';

export const NDJSON = 'application/x-ndjson';

export interface ProvenanceApiDeps {
  tasks: TaskStore;
  provenance: ProvenanceStore;
  /** The signing key(s), fetched on first use (KMS loads only for /v1/keys). */
  keys: () => Promise<PublicKeyInfo[]>;
  verifier: IdentityVerifier;
  access: ReadAccess;
  /** Operators' re-drive of FAILED tasks; unset: the route answers that it is not configured. */
  redrive?: { redriver: TaskRedriver; operators: ReadonlySet<string> };
  /** READ_PAGE_ENVELOPES: envelopes per page of the by-digest routes (default 20). */
  pageSize?: number;
}

export function provenanceApi(deps: ProvenanceApiDeps): HttpHandler {
  const authorize = (headers: HeaderReader) => authorizeReader(headers, deps.verifier, deps.access);

  /**
   * A task is named by its id and the identity that reported it. The email
   * alone can belong to more than one identity (another issuer, or a service
   * account deleted and created again gets a new subject): then the lookup
   * must also give ?subject=, rather than being answered with one of them.
   */
  async function task(rawId: string, query: URLSearchParams) {
    const taskId = fields.taskId(decode(rawId, 'task id'), 'task id');
    const reporter = fields.email('reporter', query.get('reporter'));
    const subject = query.has('subject')
      ? fields.text('subject', query.get('subject') ?? '', { max: 255, required: true })
      : undefined;
    const found = (await deps.tasks.findTasks(taskId, reporter)).filter(
      (t) => subject === undefined || t.owner.subject === subject,
    );
    const [first] = found;
    if (!first)
      throw notFound(`no task "${taskId}" reported by ${reporter}${subject ? ` with subject ${subject}` : ''}`);
    const identities = [...new Set(found.map((t) => `${t.owner.issuer} ${t.owner.subject}`))];
    if (identities.length > 1) {
      const subjects = [...new Set(found.map((t) => t.owner.subject))].sort();
      throw new ServiceError(
        'failed_precondition',
        `task "${taskId}" was reported by ${identities.length} identities with the email ${reporter} (subjects ${subjects.join(', ')}): add &subject=<subject> to name one`,
      );
    }
    return first;
  }

  async function redrive(req: HttpRequest, rawId: string, query: URLSearchParams): Promise<HttpResponse> {
    if (!deps.redrive) throw new ServiceError('failed_precondition', 're-drive is not configured in this read API');
    const operator = await bearerIdentity(req.headers, deps.verifier, " (a re-drive needs an operator's ID token)");
    if (!deps.redrive.operators.has(operator.email))
      throw permissionDenied(`${operator.email} is not on the operator allowlist (OPERATOR_ALLOWLIST)`);
    const t = await task(rawId, query);
    const { task: after, ...outcome } = await deps.redrive.redriver.redrive(t, operator.email);
    return jsonResponse(200, {
      taskId: t.taskId,
      reporter: t.owner.email,
      reporterSubject: t.owner.subject,
      ...outcome,
      status: taskStatus(after, await deps.provenance.get(t.key)),
    });
  }

  async function route(req: HttpRequest, url: URL, parts: string[]): Promise<HttpResponse> {
    // `id` is read only where parts.length says it is there.
    const [version, resource, id = '', action] = parts;
    if (version !== 'v1') throw notFound(`no route for ${url.pathname}`);
    if (isRedrive(parts)) return redrive(req, id, url.searchParams);

    if (parts.length === 2 && resource === 'keys')
      return jsonResponse(200, await deps.keys(), { 'cache-control': 'public, max-age=300' });

    await authorize(req.headers);
    if (parts.length === 4 && resource === 'artifacts' && (action === 'provenance' || action === 'bundle')) {
      const raw = decode(id, 'digest');
      if (!raw.toLowerCase().startsWith('sha256:'))
        throw new ServiceError('invalid_argument', 'digest: expected sha256:<64 hex characters>', 'digest');
      const digest = fields.sha256('digest', raw);
      const after = parseSubjectPageToken(url.searchParams.get('pageToken'));
      const page = await deps.provenance.subjectPage(digest, deps.pageSize ?? DEFAULT_PAGE_SIZE, after);
      if (page.envelopes.length === 0 && !after) throw notFound(`no provenance names sha256:${digest}`);
      const next = page.next && subjectPageToken(page.next);
      // Relative to this URL, so it holds behind a path prefix (a function's name).
      const link: Record<string, string> = next
        ? { link: `<${action}?pageToken=${next}>; rel="next"`, 'x-next-page-token': next }
        : {};
      return envelopesResponse(page.envelopes, action, link);
    }
    if (resource === 'tasks' && parts.length === 3) {
      const t = await task(id, url.searchParams);
      return jsonResponse(200, taskStatus(t, await deps.provenance.get(t.key)));
    }
    if (resource === 'tasks' && parts.length === 4 && action === 'reports') {
      const t = await task(id, url.searchParams);
      return jsonResponse(200, await taskReportsPage(deps.tasks, t, url.searchParams));
    }
    if (resource === 'tasks' && parts.length === 4 && (action === 'provenance' || action === 'bundle')) {
      const t = await task(id, url.searchParams);
      const stored = await deps.provenance.storedForTask(t.key);
      if (!stored) {
        const why = taskStatus(t, await deps.provenance.get(t.key)).provenance.reason;
        throw notFound(`task "${t.taskId}" has no provenance: ${why}`);
      }
      return envelopesResponse([stored], action);
    }
    throw notFound(`no route for ${url.pathname}`);
  }

  return async (req) => {
    try {
      // Parsed once: the method check and the routing must agree on which path is a re-drive.
      const url = new URL(req.url, 'http://local');
      const parts = url.pathname.split('/').filter(Boolean);
      const redriving = parts[0] === 'v1' && isRedrive(parts);
      const allowed = redriving ? ['POST'] : ['GET', 'HEAD'];
      if (!allowed.includes(req.method)) {
        return jsonResponse(
          405,
          {
            code: 'unimplemented',
            message: `${req.method} is not allowed: ${redriving ? 're-drive with POST' : 'the read API answers GET'}`,
          },
          { allow: allowed.join(', ') },
        );
      }
      const res = await route(req, url, parts);
      return req.method === 'HEAD' ? headOf(res) : res;
    } catch (err) {
      const res = errorResponse(toConnectError(err));
      return req.method === 'HEAD' ? headOf(res) : res;
    }
  };
}

const DEFAULT_PAGE_SIZE = 20;

const isRedrive = (parts: string[]) => parts.length === 4 && parts[1] === 'tasks' && parts[3] === 'redrive';

/**
 * …/provenance answers the envelopes as stored, …/bundle the same envelopes
 * as Sigstore bundles, one per line. Each is written from its stored pieces
 * (a bundle: its frame around the envelope's payload), so no envelope is held
 * whole, and the length is known from the records before anything is read.
 */
function envelopesResponse(
  envelopes: StoredEnvelope[],
  form: 'provenance' | 'bundle',
  headers: Record<string, string> = {},
): HttpResponse {
  const lines = envelopes.map((e) => {
    if (form === 'provenance') return { bytes: e.bytes + 1, write: () => withNewline(e.text()) };
    const frame = bundleFrame(e.frame);
    return {
      bytes: Buffer.byteLength(frame.head) + payloadLength(e) + Buffer.byteLength(frame.tail) + 1,
      write: () => framed(frame.head, payloadOf(e.text(), e), `${frame.tail}\n`),
    };
  });
  return {
    status: 200,
    headers: { 'content-type': NDJSON, 'content-length': String(lines.reduce((n, l) => n + l.bytes, 0)), ...headers },
    body: '',
    stream: async function* () {
      for (const line of lines) yield* line.write();
    },
  };
}

async function* withNewline(text: AsyncIterable<string>): AsyncGenerator<string> {
  yield* text;
  yield '\n';
}

async function* framed(head: string, middle: AsyncIterable<string>, tail: string): AsyncGenerator<string> {
  yield head;
  yield* middle;
  yield tail;
}

function decode(segment: string, field: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServiceError('invalid_argument', `${field}: is not valid percent-encoding`, field);
  }
}
