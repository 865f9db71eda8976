// The read API for release tooling (provenanceApi, and npm start on the same
// port as the reports):
//   GET /v1/artifacts/sha256:<hex>/provenance      every envelope naming that subject (ndjson)
//   GET /v1/tasks/<task id>?reporter=<email>        the task's status (JSON)
//   GET /v1/tasks/<task id>/provenance?reporter=…   the task's envelopes (ndjson)
//   …/bundle beside each …/provenance               the same envelopes as Sigstore bundles v0.3 (ndjson)
//   GET /v1/keys                                    public keys [{keyId, algorithm, pem}]
//   POST /v1/tasks/<task id>/redrive?reporter=…     operators: send a FAILED task back to assembly
// Reads need an OIDC token of an identity on the reader allowlist, unless the
// service is configured for public reads. Public keys are always public. A
// re-drive always needs the token of an identity on the operator allowlist.
import { notFound, permissionDenied, ServiceError } from '../domain/errors.js';
import type { Envelope } from '../provenance/dsse.js';
import { envelopeToBundle } from '../provenance/bundle.js';
import type { SerializedBundle } from '@sigstore/bundle';
import { taskStatus } from '../provenance/status.js';
import type { IdentityVerifier } from '../ports/identity.js';
import type { ProvenanceStore } from '../ports/provenance-store.js';
import type { PublicKeyInfo } from '../ports/signer.js';
import type { TaskStore } from '../ports/task-store.js';
import { toConnectError } from './errors.js';
import type { TaskRedriver } from '../lifecycle/redrive.js';
import { bearerIdentity } from './bearer.js';
import { errorResponse } from './connect-endpoint.js';
import { jsonResponse, type HeaderReader, type HttpHandler, type HttpRequest, type HttpResponse } from './http.js';
import * as fields from './validate/fields.js';

export const NDJSON = 'application/x-ndjson';

export interface ProvenanceApiDeps {
  tasks: TaskStore;
  provenance: ProvenanceStore;
  /** The signing key(s), fetched on first use (KMS loads only for /v1/keys). */
  keys: () => Promise<PublicKeyInfo[]>;
  verifier: IdentityVerifier;
  access: { mode: 'public' | 'allowlist'; readers: ReadonlySet<string> };
  /** Operators' re-drive of FAILED tasks; unset: the route answers that it is not configured. */
  redrive?: { redriver: TaskRedriver; operators: ReadonlySet<string> };
}

export function provenanceApi(deps: ProvenanceApiDeps): HttpHandler {
  async function authorize(headers: HeaderReader): Promise<void> {
    if (deps.access.mode === 'public') return;
    const identity = await bearerIdentity(headers, deps.verifier, ' (this service does not allow public reads)');
    if (!deps.access.readers.has(identity.email))
      throw permissionDenied(`${identity.email} is not on the reader allowlist`);
  }

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
      const envelopes = await deps.provenance.envelopesForSubject(digest);
      if (envelopes.length === 0) throw notFound(`no provenance names sha256:${digest}`);
      return envelopesResponse(envelopes, action);
    }
    if (resource === 'tasks' && parts.length === 3) {
      const t = await task(id, url.searchParams);
      return jsonResponse(200, taskStatus(t, await deps.provenance.get(t.key)));
    }
    if (resource === 'tasks' && parts.length === 4 && (action === 'provenance' || action === 'bundle')) {
      const t = await task(id, url.searchParams);
      const envelopes = await deps.provenance.envelopesForTask(t.key);
      if (envelopes.length === 0) {
        const why = taskStatus(t, await deps.provenance.get(t.key)).provenance.reason;
        throw notFound(`task "${t.taskId}" has no provenance: ${why}`);
      }
      return envelopesResponse(envelopes, action);
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
      return req.method === 'HEAD' ? { ...res, body: '' } : res;
    } catch (err) {
      return errorResponse(toConnectError(err));
    }
  };
}

const isRedrive = (parts: string[]) => parts.length === 4 && parts[1] === 'tasks' && parts[3] === 'redrive';

/** …/provenance answers the envelopes, …/bundle the same envelopes as Sigstore bundles. */
function envelopesResponse(envelopes: Envelope[], form: 'provenance' | 'bundle'): HttpResponse {
  return form === 'bundle' ? ndjson(envelopes.map(envelopeToBundle)) : ndjson(envelopes);
}

function ndjson(items: (Envelope | SerializedBundle)[]): HttpResponse {
  return {
    status: 200,
    headers: { 'content-type': NDJSON },
    body: items.map((e) => `${JSON.stringify(e)}\n`).join(''),
  };
}

function decode(segment: string, field: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServiceError('invalid_argument', `${field}: is not valid percent-encoding`, field);
  }
}
