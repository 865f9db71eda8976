// A client for the read API (provenanceApi, or npm start): what `provenance
// fetch`, `keys` and `verify --url` call. Errors carry the service's message.
// The by-digest routes answer a page at a time; the client follows the pages
// (X-Next-Page-Token) and hands back every envelope.
import { parseEnvelopes, type Envelope } from '../provenance/dsse.js';
import type { PublicKeyInfo } from '../ports/signer.js';

/** Pages of one digest the client follows before giving up (READ_PAGE_ENVELOPES is at least 1). */
const MAX_PAGES = 10_000;

export class ReadApiError extends Error {
  override name = 'ReadApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What POST …/redrive answers (the fields the CLI prints). */
export interface RedriveAnswer {
  from: string;
  to: string;
  published: boolean;
  previousReason?: string;
}

export class ReadApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  private async get(path: string, method = 'GET'): Promise<string> {
    return (await this.request(path, method)).text;
  }

  /**
   * Every page of a paged route, joined (each page is whole ndjson lines). At
   * most MAX_PAGES, and a token seen before ends with an error: a service that
   * pages forever cannot keep the client forever.
   */
  private async allPages(path: string): Promise<string> {
    const seen = new Set<string>();
    let text = '';
    let next: string | undefined;
    for (let page = 0; ; page++) {
      const answer = await this.request(next === undefined ? path : `${path}?pageToken=${encodeURIComponent(next)}`);
      text += answer.text;
      next = answer.nextPageToken;
      if (next === undefined) return text;
      if (seen.has(next) || page + 1 >= MAX_PAGES)
        throw new ReadApiError(0, `${path}: the service is still paging after ${page + 1} pages; giving up`);
      seen.add(next);
    }
  }

  private async request(path: string, method = 'GET'): Promise<{ text: string; nextPageToken?: string }> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    } catch (err) {
      throw new ReadApiError(0, `cannot reach ${url}: ${(err as { cause?: Error }).cause?.message ?? String(err)}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new ReadApiError(res.status, `${res.status} from ${url}: ${message}`);
    }
    const next = res.headers.get('x-next-page-token');
    return { text, ...(next ? { nextPageToken: next } : {}) };
  }

  /** The raw ndjson naming this sha256, unparsed (the verifier judges each line itself). */
  provenanceText(sha256: string): Promise<string> {
    return this.allPages(`/v1/artifacts/sha256:${sha256}/provenance`);
  }

  /** The same, as Sigstore bundles: one JSON bundle per line. */
  bundlesText(sha256: string): Promise<string> {
    return this.allPages(`/v1/artifacts/sha256:${sha256}/bundle`);
  }

  /** The raw ndjson and the envelopes in it, for every envelope naming this sha256. */
  async provenanceForDigest(sha256: string): Promise<{ ndjson: string; envelopes: Envelope[] }> {
    const ndjson = await this.provenanceText(sha256);
    return { ndjson, envelopes: parseEnvelopes(ndjson) };
  }

  /** Operators: send a FAILED task back to assembly. The answer carries the task's new status. */
  async redrive(taskId: string, reporter: string, subject?: string): Promise<RedriveAnswer> {
    const query = new URLSearchParams({ reporter, ...(subject ? { subject } : {}) });
    return JSON.parse(
      await this.get(`/v1/tasks/${encodeURIComponent(taskId)}/redrive?${query}`, 'POST'),
    ) as RedriveAnswer;
  }

  /** GET /v1/keys as served: the key set. */
  keysText(): Promise<string> {
    return this.get('/v1/keys');
  }

  async keys(): Promise<PublicKeyInfo[]> {
    return JSON.parse(await this.keysText()) as PublicKeyInfo[];
  }
}
