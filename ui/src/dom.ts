// The only way the pages make DOM: elements with attributes set one by one and
// text set as textContent. Everything shown comes from the read API and was
// chosen by a reporter (recipes, URLs, package names, refs), so nothing is
// ever parsed as HTML, and a link is made only from an https: URL (reported
// values) or from a fragment the page built itself.

type Child = Node | string | number | null | undefined | false;

/** Attributes that could load or run something are refused here: links go through the helpers below. */
const REFUSED = /^(on|href$|src$|srcdoc$|action$|formaction$|style$|xlink:href$)/i;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (REFUSED.test(name)) throw new Error(`attribute ${name} is not set through h()`);
    el.setAttribute(name, value);
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? text(String(c)) : c);
  }
}

/** A text node, with control and direction-changing characters made visible. */
export function text(s: string): Text {
  return document.createTextNode(printable(s));
}

// C0/C1 controls, bidi embeddings/overrides/isolates and marks, zero-width characters, BOM.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

export function printable(s: string): string {
  return s.replace(INVISIBLE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

/** A reported URL as a link when it is https:, else as text: never javascript:, data:, http: or relative. */
export function reportedLink(value: string, label = value): Node {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') return h('span', { class: 'data' }, label);
  const a = document.createElement('a');
  a.href = url.href;
  a.rel = 'noopener noreferrer nofollow';
  a.target = '_blank';
  a.className = 'data';
  a.append(text(label));
  return a;
}

/** A link to one of the pages (#/…): the page builds the fragment from encoded parts. */
export function pageLink(fragment: string, label: Child): HTMLAnchorElement {
  if (!fragment.startsWith('#/')) throw new Error('page links are fragments');
  const a = document.createElement('a');
  a.href = fragment;
  append(a, label);
  return a;
}

/** A same-origin download of a read API answer, relative to the page. */
export function downloadLink(path: string, filename: string, label: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = new URL(path, apiBase()).href;
  a.download = filename;
  a.className = 'button';
  a.append(text(label));
  return a;
}

/** The read API's root: the pages live at <root>/ui/, so ../ from them (works behind a path prefix). */
export function apiBase(): URL {
  return new URL('../', new URL('.', location.href));
}

export function clear(el: Element): void {
  el.replaceChildren();
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (REFUSED.test(name)) throw new Error(`attribute ${name} is not set through svg()`);
    el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}
