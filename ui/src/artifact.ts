// The artifact page: every envelope naming the digest, each with the verdict
// this browser computed (WebCrypto against /v1/keys), then what went into it.
import { ApiError, artifactEnvelopes, getJson, jsonLines, MAX_ENVELOPE_PAGES, paths } from './api';
import { apiBase, downloadLink, h, pageLink, reportedLink } from './dom';
import { readProvenance, type Provenance } from './statement';
import { dependencyTable } from './table';
import { parseKeySet, verifyEnvelope, type KeyEntry, type Verdict } from './verify';

export async function artifactPage(main: HTMLElement, hex: string): Promise<void> {
  main.append(h('h1', {}, 'Artifact ', h('span', { class: 'mono digest' }, `sha256:${hex}`)));
  const status = h('p', { class: 'loading', role: 'status' }, 'Fetching the provenance and the key set…');
  main.append(status);

  let keys: KeyEntry[];
  let body: string;
  let more: boolean;
  try {
    const [keyJson, envelopes] = await Promise.all([getJson(paths.keys()), artifactEnvelopes(hex)]);
    keys = parseKeySet(keyJson);
    ({ body, more } = envelopes);
  } catch (err) {
    status.remove();
    const notFound = err instanceof ApiError && err.status === 404;
    main.append(
      verdictBox(
        false,
        notFound ? 'No provenance names this artifact' : 'Could not check',
        String((err as Error).message),
      ),
    );
    done(main, 'error');
    return;
  }
  performance.mark('fetched');
  const entries = jsonLines(body);
  const verdicts = await Promise.all(
    entries.map((e) =>
      e.value !== undefined
        ? verifyEnvelope(e.value, keys, hex)
        : Promise.resolve<Verdict>({ ok: false, checks: [{ name: 'envelope', ok: false, detail: e.error ?? '' }] }),
    ),
  );
  status.remove();
  const good = verdicts.filter((v) => v.ok);
  const headline = good.length
    ? verdictBox(
        true,
        `Verified, signed by ${[...new Set(good.map((v) => v.keyId))].join(', ')}`,
        `${good.length} of ${verdicts.length} envelope(s) verified in this browser against ${paths.keys()}.${moreNote(more)}`,
      )
    : verdictBox(
        false,
        `Not verified: ${firstFailure(verdicts[0])}`,
        `${verdicts.length} envelope(s) checked in this browser; none passed every check.${moreNote(more)}`,
      );
  main.append(headline);
  performance.mark('verdict');

  verdicts.forEach((v, i) => {
    main.append(envelopeSection(v, i, verdicts.length));
  });
  main.append(
    h(
      'section',
      { class: 'downloads', 'aria-labelledby': 'dl-h' },
      h('h2', { id: 'dl-h' }, 'Downloads and offline check'),
      h(
        'p',
        {},
        downloadLink(paths.artifactProvenance(hex), `${hex.slice(0, 16)}.intoto.jsonl`, 'Envelopes (.intoto.jsonl)'),
        ' ',
        downloadLink(paths.artifactBundle(hex), `${hex.slice(0, 16)}.sigstore.jsonl`, 'Sigstore bundles (.jsonl)'),
        ' ',
        downloadLink(paths.keys(), 'provenance-keys.json', 'Key set (JSON)'),
      ),
      h('p', {}, 'The same verdict, offline, with the provenance command:'),
      h('pre', { class: 'command', tabindex: '0' }, verifyCommand(hex, good[0])),
    ),
  );

  done(main, good.length ? 'verified' : 'failed');
}

function moreNote(more: boolean): string {
  return more
    ? ` More tasks' provenance names this artifact than this page reads (${MAX_ENVELOPE_PAGES} pages): \`provenance fetch\` gets them all.`
    : '';
}

function done(main: HTMLElement, state: string): void {
  main.setAttribute('data-state', state);
}

function firstFailure(v: Verdict | undefined): string {
  const c = v?.checks.find((x) => !x.ok);
  return c ? `${c.name}: ${c.detail}` : 'no envelope';
}

function verdictBox(ok: boolean, title: string, detail: string): HTMLElement {
  return h(
    'div',
    {
      class: `verdict ${ok ? 'ok' : 'bad'}`,
      id: 'verdict',
      role: 'status',
      'data-verdict': ok ? 'verified' : 'failed',
    },
    h('p', { class: 'verdict-title' }, h('span', { 'aria-hidden': 'true' }, ok ? '✔ ' : '✖ '), title),
    h('p', {}, detail),
  );
}

/**
 * The `provenance verify` run that reproduces this verdict offline; every
 * value shell-quoted. The policy flags come from a verified statement only:
 * an unverified one could name anyone.
 */
function verifyCommand(hex: string, v: Verdict | undefined): string {
  const url = apiBase().href.replace(/\/$/, '');
  const p = v?.statement ? readProvenance(v.statement) : undefined;
  const file = `${hex.slice(0, 16)}.intoto.jsonl`;
  const verify = [
    'provenance verify --key provenance-keys.pem',
    `--digest sha256:${hex}`,
    `--provenance ${file}`,
    p?.reporter ? `--reporter ${sh(p.reporter)}` : '',
    p?.builderId ? `--builder-id ${sh(p.builderId)}` : '',
    p?.reporter ? '' : '--reporter <the email of the identity you expect>',
  ];
  return [
    `provenance keys --url ${sh(url)} -o provenance-keys.pem`,
    `provenance fetch sha256:${hex} \\\n    --url ${sh(url)} -o ${file}`,
    verify.filter(Boolean).join(' \\\n    '),
  ].join('\n');
}

function sh(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function envelopeSection(v: Verdict, index: number, total: number): HTMLElement {
  const id = `env-${index + 1}`;
  const section = h(
    'section',
    { class: 'envelope', 'aria-labelledby': `${id}-h` },
    h(
      'h2',
      { id: `${id}-h` },
      total > 1 ? `Envelope ${index + 1} of ${total}` : 'The envelope',
      ' ',
      h('span', { class: `badge ${v.ok ? 'ok' : 'bad'}` }, v.ok ? 'verified' : 'not verified'),
    ),
  );
  const checks = h(
    'details',
    { class: 'checks-box', ...(v.ok ? {} : { open: '' }) },
    h('summary', {}, v.ok ? `All ${v.checks.length} checks passed` : `Checks: ${firstFailure(v)}`),
    checksList(v),
  );
  if (!v.statement) {
    section.append(checks);
    return section;
  }
  const p = readProvenance(v.statement);
  // Unverified: the failed check comes first, before anything the statement says.
  if (!v.ok)
    section.append(
      checks,
      h(
        'p',
        { class: 'warning' },
        'The content below did not pass every check: it is shown as found, not vouched for.',
      ),
    );
  section.append(facts(p), findings(p), subjects(p), sources(p));
  section.append(
    h('h3', {}, 'Resolved dependencies'),
    dependencyTable(p.dependencies, index === 0 ? '' : `-${index + 1}`),
  );
  if (v.ok) section.append(checks);
  return section;
}

function checksList(v: Verdict): HTMLElement {
  return h(
    'ul',
    { class: 'checks', 'aria-label': 'Checks' },
    ...v.checks.map((c) =>
      h(
        'li',
        { class: c.ok ? 'ok' : 'bad', 'data-check': c.name },
        h('span', { class: 'mark', 'aria-hidden': 'true' }, c.ok ? '✔' : '✖'),
        h('strong', {}, c.name),
        c.ok ? ' passed: ' : ' FAILED: ',
        h('span', { class: 'data' }, c.detail),
      ),
    ),
  );
}

function facts(p: Provenance): HTMLElement {
  const dl = h('dl', { class: 'facts' });
  const add = (term: string, value: Node | string | undefined) => {
    if (value === undefined) return;
    dl.append(h('dt', {}, term), h('dd', {}, typeof value === 'string' ? h('span', { class: 'data' }, value) : value));
  };
  add(
    'Task',
    p.taskId && p.reporter
      ? pageLink(taskFragment(p.taskId, p.reporter), h('span', { class: 'data' }, p.taskId))
      : p.taskId,
  );
  add('Reporter', p.reporter);
  add('Builder', p.builderId === undefined ? undefined : reportedLink(p.builderId));
  add('Recipe', p.recipe);
  if (p.configSource)
    add(
      'Config source',
      h(
        'span',
        {},
        reportedLink(p.configSource.uri),
        ' ',
        h('span', { class: 'mono' }, p.configSource.digest),
        p.configSource.entryPoint ? ` (entry point ${p.configSource.entryPoint})` : '',
      ),
    );
  add('Started', p.startedOn);
  add('Artifacts complete', p.finishedOn);
  return dl;
}

export function taskFragment(taskId: string, reporter: string): string {
  return `#/tasks/${encodeURIComponent(taskId)}?reporter=${encodeURIComponent(reporter)}`;
}

function findings(p: Provenance): HTMLElement {
  if (p.findings.length === 0) return h('p', { class: 'no-findings' }, 'No findings.');
  return h(
    'div',
    { class: 'findings', role: 'note', 'aria-label': 'Findings' },
    h('h3', {}, `Findings (${p.findings.length})`),
    h(
      'ul',
      {},
      ...p.findings.map((f) =>
        h(
          'li',
          {},
          h('strong', { class: 'data' }, f.code),
          ' ',
          h('span', { class: 'data' }, f.message),
          ` at ${f.at}`,
        ),
      ),
    ),
  );
}

function subjects(p: Provenance): HTMLElement {
  return h(
    'div',
    {},
    h('h3', {}, `Subjects (${p.subjects.length})`),
    h(
      'ul',
      { class: 'subjects' },
      ...p.subjects.map((s) =>
        h(
          'li',
          {},
          h('span', { class: 'data' }, s.name),
          ' ',
          /^[0-9a-f]{64}$/.test(s.sha256)
            ? pageLink(`#/artifacts/sha256:${s.sha256}`, h('span', { class: 'mono' }, `sha256:${s.sha256}`))
            : h('span', { class: 'mono data' }, s.sha256),
        ),
      ),
    ),
  );
}

/** Sources listed above the table; a task with more (a monorepo's vendored checkouts) has them in the table. */
const MAX_SOURCES = 20;

function sources(p: Provenance): HTMLElement {
  if (p.sources.length === 0) return h('p', {}, 'No git sources were reported.');
  return h(
    'div',
    {},
    h('h3', {}, `Sources (${p.sources.length})`),
    h(
      'table',
      { class: 'sources' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'repository'),
          h('th', { scope: 'col' }, 'commit'),
          h('th', { scope: 'col' }, 'refs'),
        ),
      ),
      h(
        'tbody',
        {},
        ...p.sources
          .slice(0, 200)
          .map((s) =>
            h(
              'tr',
              {},
              h('td', {}, reportedLink(s.repo)),
              h('td', { class: 'mono data' }, s.commit),
              h('td', { class: 'data' }, s.refs.join(' ')),
            ),
          ),
      ),
    ),
    p.sources.length > MAX_SOURCES
      ? h('p', {}, `… and ${p.sources.length - MAX_SOURCES} more: filter the dependency table below by git.`)
      : null,
  );
}
