// The sensitivity view (/leagues/{league}/sensitivity): each trust's rank under the published method and under
// reasonable alternatives, drawn as the span of ranks per trust, with a plain sentence on what it means.
import { $, chartBlock, displayName, el, findTrust, getJSON, leagueName, simpleTable } from './common.js';
import { rankSpans } from './build/charts.js';

const parts = location.pathname.split('/').filter(Boolean);
const league = decodeURIComponent(parts[parts.indexOf('leagues') + 1] ?? '');

function methodsList(methods) {
  return el('dl', { class: 'nhsuk-summary-list' }, methods.map((m) => el('div', { class: 'nhsuk-summary-list__row' },
    el('dt', { class: 'nhsuk-summary-list__key' }, m.label),
    el('dd', { class: 'nhsuk-summary-list__value' }, m.description, el('br', {}),
      el('span', { class: 'trust-meta' }, `methodology ${m.methodology_version}`)))));
}

async function load() {
  const view = await getJSON(`/v1/leagues/${encodeURIComponent(league)}/sensitivity`);
  const name = leagueName(league);
  document.title = `${name}: sensitivity to the method: NOF live league tables`;
  $('page-title').textContent = `${name}: how much do the ranks depend on the method?`;
  $('back-link').href = `/#${encodeURIComponent(league)}`;
  $('back-link').textContent = `Back to the ${name.toLowerCase()} league table`;
  $('page-meta').textContent = [`version ${view.version}`, `methodology ${view.methodology_version}`].join(' · ');
  const entries = view.entries ?? [];
  const methods = view.methods ?? [];
  const table = simpleTable('Rank under each method', ['Trust', ...methods.map((m) => m.label), 'Span'],
    entries.map((e) => [el('a', { href: `/trusts/${encodeURIComponent(e.trust_code)}` }, `${displayName(e.trust_name) ?? e.trust_code} (${e.trust_code})`),
      ...methods.map((m) => e.ranks?.[m.key] ?? 'unranked'), e.span ?? '—']));
  const chart = chartBlock({
    id: 'sensitivity', title: 'The span of each trust\'s rank across the methods', filename: `nof-${league}-sensitivity`,
    summary: 'Each row is a trust, in published rank order; the grey bar spans its best to its worst rank across the '
      + 'methods, and each shape marks the rank one method gives it. A long bar means the rank depends on the method.',
    table,
    draw: (width) => rankSpans(entries, methods, { width, label: `Span of ranks per trust in ${name} across ${methods.length} methods` }),
  });
  $('page-body').replaceChildren(...[
    el('p', { class: 'nhsuk-body-l', id: 'sensitivity-sentence' }, view.summary),
    chart,
    el('h2', { class: 'nhsuk-heading-m' }, 'The methods compared'), methodsList(methods),
    el('p', { class: 'hint' }, view.note ?? ''),
    view.reproduces_published === false
      ? el('div', { class: 'nhsuk-warning-callout' }, el('h3', { class: 'nhsuk-warning-callout__label' }, 'Important'),
        el('p', {}, 'Scored again from the values shown (2 decimal places), the published method does not give every trust its published rank; the published rank is included in each span.'))
      : null,
  ].filter(Boolean));
}

load().catch((err) => $('page-body').replaceChildren(el('p', { class: 'error' }, `Could not load the sensitivity view: ${err.message}`)));
findTrust($('find-trust'));
