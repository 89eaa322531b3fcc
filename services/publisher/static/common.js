// What every dashboard page shares: DOM and formatting helpers, "Find a trust", chart blocks with their text
// alternative and downloads. Plain ES module; the charts come from /static/build/charts.js (built by make install).

export const LEAGUE_NAMES = {
  acute: 'Acute trusts',
  'mental-health-community': 'Mental health and community trusts',
  ambulance: 'Ambulance trusts',
};
export const FALLBACK_LEAGUES = Object.keys(LEAGUE_NAMES);
const CAUSE_WORDS = { observation: 'data', finance: 'finance (deficit) status',
  intensive_support: 'intensive support decision', trust: 'register entry' };
const UPPER_WORDS = new Set(['NHS', 'UK', 'ICB']);
const SMALL_WORDS = new Set(['and', 'of', 'the', 'for', 'in', 'on']);

export const $ = (id) => document.getElementById(id);
export const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
export const present = (v) => v !== null && v !== undefined && v !== '';
export const leagueName = (slug) => LEAGUE_NAMES[slug] ?? slug;
export const segClass = (seg) => (present(seg) ? `seg-${seg}` : 'seg-none');

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const srOnly = (text) => el('span', { class: 'nhsuk-u-visually-hidden visually-hidden' }, text);

export function withRange(value, range, missing = '—') {
  if (!present(value)) return missing;
  return Array.isArray(range) && range.length === 2 ? `${value} (${range[0]}–${range[1]})` : String(value);
}

export function fmtValue(v) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.every((x) => !isObj(x)) ? v.join(', ') : JSON.stringify(v);
  if (isObj(v)) return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

export function fmtTime(iso) {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString('en-GB');
}

export function fmtDateTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso)
    : d.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

// The trust register spells names in capitals: show them in title case, keeping "NHS".
export function displayName(name) {
  if (!name || name !== name.toUpperCase()) return name;
  return name.toLowerCase().split(' ').map((w, i) => {
    if (UPPER_WORDS.has(w.toUpperCase())) return w.toUpperCase();
    return i > 0 && SMALL_WORDS.has(w) ? w : w.charAt(0).toUpperCase() + w.slice(1);
  }).join(' ');
}

export function segmentBadge(seg) {
  const label = present(seg) ? String(seg) : 'none';
  const extra = seg === 5 ? ' intensive support' : present(seg) ? '' : ' (unsegmented)';
  return el('span', { class: `seg-badge ${segClass(seg)}` }, srOnly('Segment '), label, extra);
}

/** Why a trust has no distance to the next better segment, in words (or the distance). */
export function distanceText(entry) {
  if (entry.segment === 5 || entry.intensive_support) return 'none: segment 5 is a decision';
  if (present(entry.distance_to_next_segment)) return String(entry.distance_to_next_segment);
  if (!present(entry.segment)) return 'none: no average yet';
  if (entry.capped || (entry.in_deficit && entry.segment === 3)) return 'none: held at 3 by the deficit cap';
  if (entry.segment === 1) return 'none: already the best segment';
  return '—';
}

export function causeText(code, cause) {
  if (!isObj(cause)) return 'cause not given';
  const what = CAUSE_WORDS[cause.kind] ?? (cause.kind ? String(cause.kind).replaceAll('_', ' ') : 'data');
  const metric = cause.metric_id ? ` (${cause.metric_id})` : '';
  const own = cause.own_data ?? (!cause.trust_code || cause.trust_code === code);
  if (own) return `caused by ${code}'s own ${what}${metric}`;
  return `caused by another trust's ${what}: ${cause.trust_code}${metric}`;
}

export async function getJSON(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) {
    let detail = '';
    try { detail = (await res.json()).detail ?? ''; } catch { /* not JSON */ }
    throw new Error(detail ? String(detail) : `HTTP ${res.status}`);
  }
  return res.json();
}

export async function knownLeagues() {
  try {
    const body = await getJSON('/v1/leagues');  // {"leagues": [...]}, or a bare list
    const found = (Array.isArray(body) ? body : body.leagues ?? []).map((x) => (isObj(x) ? x.league : x));
    const known = FALLBACK_LEAGUES.filter((slug) => found.includes(slug));
    const list = [...known, ...found.filter((slug) => present(slug) && !known.includes(slug))];
    return list.length ? list : FALLBACK_LEAGUES;
  } catch {
    return FALLBACK_LEAGUES;
  }
}

// ---------- downloads ----------

export function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function svgText(svg) {
  const copy = svg.cloneNode(true);
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const box = svg.getBoundingClientRect();
  copy.setAttribute('width', String(Math.round(box.width)));
  copy.setAttribute('height', String(Math.round(box.height)));
  return new XMLSerializer().serializeToString(copy);
}

export function downloadSvg(svg, name) {
  download(`${name}.svg`, new Blob([svgText(svg)], { type: 'image/svg+xml' }));
}

export function downloadPng(svg, name) {
  const box = svg.getBoundingClientRect();
  const image = new Image();
  image.onload = () => {
    const canvas = el('canvas', { width: Math.round(box.width * 2), height: Math.round(box.height * 2) });
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.scale(2, 2);
    ctx.drawImage(image, 0, 0);
    canvas.toBlob((blob) => blob && download(`${name}.png`, blob), 'image/png');
  };
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText(svg))}`;
}

export function csvText(header, rows) {
  const cell = (v) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/**
 * A chart with its heading, a summary sentence, PNG and SVG downloads, and (optionally) its data as a table
 * in a details element. ``draw(width)`` returns the chart node; it is drawn again when the width changes.
 */
export function chartBlock({ id, title, summary, filename, draw, table = null, heading = 'h3' }) {
  const holder = el('div', { class: 'chart', id: `${id}-chart` });
  const svgOf = () => holder.querySelector('svg[role="img"]') ?? holder.querySelector('svg');
  const buttons = el('div', { class: 'chart-downloads' },
    el('button', { type: 'button', class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small', 'data-download': 'png' },
      'Download PNG', srOnly(` of ${title}`)),
    el('button', { type: 'button', class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small', 'data-download': 'svg' },
      'Download SVG', srOnly(` of ${title}`)));
  buttons.addEventListener('click', (e) => {
    const kind = e.target.closest('button')?.dataset.download;
    const svg = svgOf();
    if (!svg || !kind) return;
    (kind === 'png' ? downloadPng : downloadSvg)(svg, filename);
  });
  const block = el('figure', { class: 'chart-block', id, 'aria-labelledby': `${id}-title` },
    el('figcaption', {}, el(heading, { class: 'nhsuk-heading-s', id: `${id}-title` }, title),
      el('p', { class: 'chart-summary', id: `${id}-summary` }, summary)),
    holder, buttons,
    table ? el('details', { class: 'nhsuk-details' },
      el('summary', { class: 'nhsuk-details__summary' }, el('span', { class: 'nhsuk-details__summary-text' }, `${title}: the data as a table`)),
      el('div', { class: 'nhsuk-details__text' }, table)) : null);
  let lastWidth = 0;
  const render = () => {
    const width = Math.max(280, Math.floor(holder.clientWidth || block.clientWidth || 320));
    if (Math.abs(width - lastWidth) < 8 && holder.firstChild) return;
    lastWidth = width;
    try {
      holder.replaceChildren(draw(width));
      const svg = svgOf();
      if (svg) {  // reachable from the keyboard: focus reads its label and the summary sentence
        svg.setAttribute('aria-describedby', `${id}-summary`);
        svg.setAttribute('tabindex', '0');
      }
    } catch (err) {
      holder.replaceChildren(el('p', { class: 'error' }, `The chart could not be drawn: ${err.message}`));
    }
  };
  block.render = () => { lastWidth = 0; render(); };
  new ResizeObserver(() => render()).observe(holder);
  return block;
}

export function simpleTable(caption, head, rows) {
  return el('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
    el('table', { class: 'nhsuk-table' },
      el('caption', { class: 'nhsuk-table__caption nhsuk-table__caption--s' }, caption),
      el('thead', { class: 'nhsuk-table__head' }, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', { class: 'nhsuk-table__body' }, rows.map((r) => el('tr', {}, r.map((c, i) => (i === 0
        ? el('th', { scope: 'row' }, c) : el('td', {}, c))))))));
}

// ---------- find a trust ----------

/**
 * "Find a trust" on every page: by name or code, narrowed by region and subtype; results link to trust pages.
 * ``onFilter(filter)`` is called with {text, region, subtype} as they change (the league page filters its table).
 */
export async function findTrust(container, { onFilter = null, trusts = null } = {}) {
  const input = el('input', { class: 'nhsuk-input', id: 'trust-search', type: 'search', autocomplete: 'off',
    'aria-describedby': 'trust-search-hint', 'aria-controls': 'trust-results' });
  const region = el('select', { class: 'nhsuk-select', id: 'region-filter' }, el('option', { value: '' }, 'All regions'));
  const subtype = el('select', { class: 'nhsuk-select', id: 'subtype-filter' }, el('option', { value: '' }, 'All types'));
  const results = el('ul', { class: 'nhsuk-list trust-results', id: 'trust-results', 'aria-live': 'polite' });
  container.replaceChildren(el('form', { class: 'find-trust', role: 'search', 'aria-label': 'Find a trust' },
    el('div', { class: 'nhsuk-form-group find-text' },
      el('label', { class: 'nhsuk-label', for: 'trust-search' }, 'Find a trust'),
      el('div', { class: 'nhsuk-hint', id: 'trust-search-hint' }, 'Name or code, for example Leeds or RR8'), input),
    el('div', { class: 'nhsuk-form-group' }, el('label', { class: 'nhsuk-label', for: 'region-filter' }, 'Region'), region),
    el('div', { class: 'nhsuk-form-group' }, el('label', { class: 'nhsuk-label', for: 'subtype-filter' }, 'Trust type'), subtype)),
  results);
  container.querySelector('form').addEventListener('submit', (e) => {
    e.preventDefault();
    const first = results.querySelector('a');
    if (first) location.assign(first.href);
  });
  let all = trusts ?? [];
  const update = () => {
    const filter = { text: input.value.trim().toLowerCase(), region: region.value, subtype: subtype.value };
    onFilter?.(filter);
    const active = filter.text || filter.region || filter.subtype;
    const found = active ? all.filter((t) => matches(t, filter)) : [];
    results.replaceChildren(...found.slice(0, 8).map((t) => el('li', {},
      el('a', { href: `/trusts/${encodeURIComponent(t.trust_code)}` }, `${displayName(t.trust_name) ?? t.trust_code} (${t.trust_code})`),
      el('span', { class: 'trust-meta' }, ` ${[leagueName(t.league), t.region].filter(present).join(', ')}`))));
    if (active && !found.length) results.replaceChildren(el('li', {}, 'No trust matches.'));
    else if (found.length > 8) results.append(el('li', { class: 'trust-meta' }, `and ${found.length - 8} more: narrow the search`));
  };
  for (const c of [input, region, subtype]) c.addEventListener('input', update);
  all = trusts ?? await allTrusts();
  for (const r of [...new Set(all.map((t) => t.region).filter(present))].sort()) region.append(el('option', { value: r }, r));
  for (const s of [...new Set(all.map((t) => t.subtype).filter(present))].sort()) subtype.append(el('option', { value: s }, s));
  update();
  return { update };
}

export function matches(t, { text = '', region = '', subtype = '' }) {
  const name = String(t.trust_name ?? '').toLowerCase();
  const code = String(t.trust_code ?? '').toLowerCase();
  return (!text || name.includes(text) || code.startsWith(text) || String(displayName(t.trust_name) ?? '').toLowerCase().includes(text))
    && (!region || t.region === region) && (!subtype || t.subtype === subtype);
}

async function allTrusts() {
  const out = [];
  for (const league of await knownLeagues()) {
    try {
      const snapshot = await getJSON(`/v1/leagues/${encodeURIComponent(league)}`);
      for (const e of snapshot.entries ?? []) out.push({ ...e, league });
    } catch { /* a league with no table yet */ }
  }
  return out;
}
