// The resolved dependencies: a filterable table that stays fast at tens of
// thousands of rows. Only the rows in view (and a margin) are in the DOM: a
// spacer row above and below stands for the rest, so scrolling, filtering and
// keyboard use cost the same at 20 rows and at 10,000.
import { h, printable, reportedLink } from './dom';
import type { Dependency } from './statement';

const ROW_HEIGHT = 32; // px; matches .deps tbody tr in app.css
const MARGIN_ROWS = 20;
const VIEWPORT_PX = 480;

/** idSuffix keeps element ids unique when a page holds several tables (one per envelope). */
export function dependencyTable(deps: Dependency[], idSuffix = ''): HTMLElement {
  const id = (name: string) => `${name}${idSuffix}`;
  const kinds = ['git', 'cipd', 'gcs', 'other'].filter((k) => deps.some((d) => d.kind === k));
  const kind = h(
    'select',
    { id: id('dep-kind'), 'aria-label': 'Kind of dependency' },
    h('option', { value: '' }, `all kinds (${deps.length})`),
    ...kinds.map((k) => h('option', { value: k }, `${k} (${deps.filter((d) => d.kind === k).length})`)),
  );
  const search = h('input', {
    id: id('dep-filter'),
    type: 'search',
    placeholder: 'filter by name, digest, ref…',
    'aria-label': 'Filter dependencies',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const count = h('p', { class: 'count', role: 'status', 'aria-live': 'polite', id: id('dep-count') });
  const top = h('tr', { 'aria-hidden': 'true', class: 'spacer' });
  const bottom = h('tr', { 'aria-hidden': 'true', class: 'spacer' });
  const tbody = h('tbody', {});
  const table = h(
    'table',
    { class: 'deps', 'aria-describedby': id('dep-count') },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', class: 'c-kind' }, 'kind'),
        h('th', { scope: 'col', class: 'c-name' }, 'name'),
        h('th', { scope: 'col', class: 'c-digest' }, 'digest'),
        h('th', { scope: 'col', class: 'c-labels' }, 'refs / tags'),
      ),
    ),
    tbody,
  );
  const viewport = h(
    'div',
    {
      class: 'viewport',
      tabindex: '0',
      role: 'region',
      'aria-label': `Resolved dependencies${idSuffix ? ` of envelope ${idSuffix.slice(1)}` : ''} (scrollable)`,
    },
    table,
  );

  let rows = deps;
  let drawn = '';
  const draw = () => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - MARGIN_ROWS);
    const visible = Math.ceil((viewport.clientHeight || VIEWPORT_PX) / ROW_HEIGHT) + 2 * MARGIN_ROWS;
    const last = Math.min(rows.length, first + visible);
    const key = `${first}:${last}:${rows.length}`;
    if (key === drawn) return;
    drawn = key;
    top.style.height = `${first * ROW_HEIGHT}px`;
    bottom.style.height = `${(rows.length - last) * ROW_HEIGHT}px`;
    const out: Node[] = [top];
    for (let i = first; i < last; i++) out.push(row(rows[i] as Dependency, i));
    out.push(bottom);
    tbody.replaceChildren(...out);
    table.setAttribute('aria-rowcount', String(rows.length + 1));
  };
  const apply = () => {
    const k = kind.value;
    const q = search.value.trim().toLowerCase();
    rows = deps.filter((d) => (!k || d.kind === k) && (!q || d.haystack.includes(q)));
    // Short lists take only the room they need; long ones scroll inside a fixed window.
    viewport.style.height = `${Math.min(VIEWPORT_PX, (rows.length + 1) * ROW_HEIGHT + 4)}px`;
    count.textContent =
      rows.length === deps.length
        ? `${deps.length} dependencies`
        : `${rows.length} of ${deps.length} dependencies match`;
    viewport.scrollTop = 0;
    drawn = '';
    draw();
  };
  let frame = 0;
  viewport.addEventListener('scroll', () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(draw);
  });
  kind.addEventListener('change', apply);
  search.addEventListener('input', apply);
  apply();
  // The viewport's height is known once it is in the document.
  requestAnimationFrame(() => {
    drawn = '';
    draw();
  });

  return h(
    'div',
    { class: 'dep-table' },
    h(
      'div',
      { class: 'filters' },
      h('label', { for: id('dep-kind') }, 'Kind'),
      kind,
      h('label', { for: id('dep-filter') }, 'Text'),
      search,
    ),
    count,
    viewport,
  );
}

function row(d: Dependency, index: number): HTMLTableRowElement {
  return h(
    'tr',
    { 'aria-rowindex': String(index + 2) },
    h('td', { class: `c-kind kind-${d.kind}` }, d.kind),
    h(
      'td',
      { class: 'c-name', title: printable(d.uri) },
      d.kind === 'git' ? reportedLink(d.name) : h('span', {}, d.name),
    ),
    h('td', { class: 'c-digest mono', title: printable(d.digest) }, d.digest),
    h('td', { class: 'c-labels', title: printable(d.labels) }, d.labels),
  );
}
