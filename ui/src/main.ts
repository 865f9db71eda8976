// The pages for people (served at /ui/): search by digest, by a file dropped
// on the page (hashed here, never uploaded) or by task id and reporter; the
// fragment names the page (#/artifacts/sha256:<hex>, #/tasks/<id>?reporter=…),
// so every view has a link to share.
import { artifactPage, taskFragment } from './artifact';
import { clear, h } from './dom';
import { taskPage } from './task';

const DIGEST = /^(?:sha256:)?([0-9a-f]{64})$/i;

function main(): HTMLElement {
  const el = document.getElementById('main');
  if (!el) throw new Error('the page has no #main');
  return el;
}

async function route(): Promise<void> {
  const el = main();
  clear(el);
  el.removeAttribute('data-state');
  const hash = location.hash.replace(/^#/, '');
  const [path = '', query = ''] = hash.split('?', 2);
  const parts = path.split('/').filter(Boolean);
  try {
    if (parts[0] === 'artifacts' && parts.length === 2) {
      const m = DIGEST.exec(decodeURIComponent(parts[1] ?? ''));
      if (m?.[1]) {
        document.title = `Artifact sha256:${m[1].slice(0, 12)}… · provenance`;
        await artifactPage(el, m[1].toLowerCase());
        return;
      }
    }
    if (parts[0] === 'tasks' && parts.length === 2) {
      const taskId = decodeURIComponent(parts[1] ?? '');
      const reporter = new URLSearchParams(query).get('reporter') ?? '';
      document.title = `Task ${taskId.slice(0, 40)} · provenance`;
      await taskPage(el, taskId, reporter);
      return;
    }
    document.title = 'Build provenance';
    home(el);
  } catch (err) {
    el.append(h('p', { class: 'verdict bad', role: 'alert' }, `The page failed: ${(err as Error).message}`));
    el.setAttribute('data-state', 'error');
  }
  focusHeading(el);
}

function focusHeading(el: HTMLElement): void {
  const heading = el.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

function home(el: HTMLElement): void {
  el.append(
    h('h1', {}, 'Build provenance'),
    h(
      'p',
      {},
      'Look up an artifact by its sha256 digest (or drop the file on this page: it is hashed here and never uploaded), or a task by its id and the email of the identity that reported it. Signatures are checked in this browser against the service’s public keys.',
    ),
  );
  el.setAttribute('data-state', 'home');
}

function searchForm(): HTMLElement {
  const query = h('input', {
    id: 'q',
    name: 'q',
    type: 'search',
    placeholder: 'sha256:… or a task id',
    'aria-label': 'Digest or task id',
    autocomplete: 'off',
    spellcheck: 'false',
    required: '',
  });
  const reporter = h('input', {
    id: 'reporter',
    name: 'reporter',
    type: 'email',
    placeholder: 'reporter email (tasks)',
    'aria-label': 'Reporter email, for a task',
    autocomplete: 'off',
  });
  const file = h('input', { id: 'file', type: 'file', class: 'visually-hidden' });
  const message = h('p', { id: 'search-message', role: 'alert', class: 'search-message' });
  const form = h(
    'form',
    { role: 'search', class: 'search', novalidate: '' },
    query,
    reporter,
    h('button', { type: 'submit' }, 'Look up'),
    h('label', { for: 'file', class: 'button secondary' }, 'Hash a file…'),
    file,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    message.textContent = '';
    const q = query.value.trim();
    const m = DIGEST.exec(q);
    if (m?.[1]) {
      location.hash = `#/artifacts/sha256:${m[1].toLowerCase()}`;
      return;
    }
    if (!q) {
      message.textContent = 'Give a sha256 digest or a task id.';
      return;
    }
    if (!reporter.value.trim()) {
      message.textContent = `"${q.slice(0, 80)}" is not a sha256 digest; to look up a task, also give the reporter’s email.`;
      reporter.focus();
      return;
    }
    location.hash = taskFragment(q, reporter.value.trim());
  });
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f) void hashFile(f, message);
  });
  return h('div', { class: 'search-wrap' }, form, message);
}

async function hashFile(f: File, message: HTMLElement): Promise<void> {
  message.textContent = `Hashing ${f.name} (${f.size} bytes) in this browser…`;
  try {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    message.textContent = '';
    location.hash = `#/artifacts/sha256:${hex}`;
  } catch (err) {
    message.textContent = `Could not hash ${f.name}: ${(err as Error).message}`;
  }
}

function dropZone(): void {
  const body = document.body;
  body.addEventListener('dragover', (e) => {
    e.preventDefault();
    body.classList.add('dragging');
  });
  body.addEventListener('dragleave', () => body.classList.remove('dragging'));
  body.addEventListener('drop', (e) => {
    e.preventDefault();
    body.classList.remove('dragging');
    const f = e.dataTransfer?.files[0];
    const message = document.getElementById('search-message');
    if (f && message) void hashFile(f, message);
  });
}

/** The skip link moves focus to the content without touching the fragment (which names the page). */
function skipLink(): void {
  document.querySelector('a.skip')?.addEventListener('click', (e) => {
    e.preventDefault();
    main().focus();
  });
}

function start(): void {
  skipLink();
  const header = document.getElementById('search');
  if (header) header.append(searchForm());
  dropZone();
  // In-page anchors (the skip link's #main) are not pages: only #/… routes.
  window.addEventListener('hashchange', () => {
    if (location.hash === '' || location.hash.startsWith('#/')) void route();
  });
  void route();
}

start();
