// The trust page (/trusts/{code}): its result, a spine chart of every metric against its peers, the history of
// its average and segment, and the changes with their causes, a burst of changes merged into one line.
import {
  $, causeText, chartBlock, displayName, distanceText, el, findTrust, fmtDateTime, fmtValue, getJSON, isObj,
  leagueName, present, segmentBadge, simpleTable, withRange,
} from './common.js';
import { history as historyChart, spine } from './build/charts.js';

const BURST_MS = 60000;  // changes within a minute of each other are one line
const code = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() ?? '');

function summaryList(rows) {
  return el('dl', { class: 'nhsuk-summary-list' }, rows.filter(([, v]) => v !== undefined).map(([k, v]) =>
    el('div', { class: 'nhsuk-summary-list__row' }, el('dt', { class: 'nhsuk-summary-list__key' }, k),
      el('dd', { class: 'nhsuk-summary-list__value' }, v instanceof Node ? v : fmtValue(v)))));
}

function resultSummary(r) {
  const seg = el('span', {}, segmentBadge(r.segment),
    r.capped ? [' ', el('strong', { class: 'nhsuk-tag nhsuk-tag--orange' }, 'capped (deficit)')] : null);
  return summaryList([
    ['Segment', seg], ['Raw segment (before the cap and segment 5)', r.raw_segment ?? '—'],
    ['Average score (likely range)', withRange(r.average, r.average_range)],
    ['Rank (likely range)', withRange(r.rank, r.rank_range, 'unranked')],
    ['Unadjusted rank (by average alone)', r.unadjusted_rank ?? '—'],
    ['Metrics scored', present(r.applicable_metrics) ? `${r.scored_metrics}/${r.applicable_metrics}` : '—'],
    ['Distance to the next better segment', distanceText(r)],
    ['In financial deficit', r.in_deficit === null || r.in_deficit === undefined ? 'unknown' : r.in_deficit],
    ['Intensive support', r.intensive_support ?? false],
  ]);
}

function reasons(data) {
  return summaryList([['Segment', data.segment_rule], ['Financial cap', data.cap], ['Segment 5', data.segment5],
    ['Rank', data.rank_reason], ['Likely ranges', data.range_method]].filter(([, v]) => present(v)));
}

// ---------- spine chart ----------

function spineRows(metrics, spread) {
  const byId = new Map((spread?.metrics ?? []).map((m) => [m.metric_id, m]));
  return metrics.filter((m) => present(m.value) && byId.has(m.metric_id) && m.direction && !String(m.status ?? '').startsWith('not applicable'))
    .map((m) => ({ ...byId.get(m.metric_id), ...m, value: Number(m.value), score: m.score }));
}

function spineBlock(rows, name) {
  const better = rows.filter((r) => present(r.score) && Number(r.score) <= 2).length;
  const table = simpleTable('Each metric against its peers', ['Metric', 'Value', 'Peers: lowest', 'Median', 'Highest', 'Better is', 'Score'],
    rows.map((r) => [`${r.metric_id} ${r.name ?? ''}`, `${r.value}${r.unit ? ` ${r.unit}` : ''}`, r.min, r.median, r.max,
      r.direction, r.score ?? 'not scored']));
  return chartBlock({
    id: 'spine', title: 'Every metric against its peers', filename: `nof-${code}-spine`, table,
    summary: `Each row is a metric: the grey bar spans the trust's peers in its league, from worst on the left to best `
      + `on the right, the darker middle is the middle half of them and the black tick the median. The dot is ${name}; `
      + `it is in the better half on ${better} of ${rows.length} metrics (circles; diamonds for the worse half).`,
    draw: (width) => spine(rows, { width, label: `Spine chart: ${name}'s value on each metric against its peers` }),
  });
}

// ---------- history ----------

function historyPoints(data, r) {
  const points = (data.history ?? []).filter((h) => String(h.type).includes('segment') && isObj(h.new) && present(h.new.average))
    .map((h) => ({ at: h.at, average: h.new.average, lo: h.new.average_range?.[0], hi: h.new.average_range?.[1], segment: h.new.segment }))
    .reverse();
  if (present(r.average)) {
    points.push({ at: new Date().toISOString(), average: r.average, lo: r.average_range?.[0], hi: r.average_range?.[1], segment: r.segment });
  }
  return points;
}

function historyBlock(points, name) {
  const table = simpleTable('Average score and segment over time', ['When', 'Average (likely range)', 'Segment'],
    points.map((p) => [fmtDateTime(p.at), withRange(p.average, present(p.lo) ? [p.lo, p.hi] : null), p.segment ?? 'none']));
  const first = points[0]; const last = points[points.length - 1];
  return chartBlock({
    id: 'history', title: 'Average score, likely range and segment over time', filename: `nof-${code}-history`, table,
    summary: points.length > 1
      ? `${points.length} points from ${fmtDateTime(first.at)}: the average went from ${first.average} (segment ${first.segment ?? 'none'}) `
        + `to ${last.average} (segment ${last.segment ?? 'none'}); the shaded band is the likely range.`
      : `Only the current result is known for ${name}: average ${last?.average ?? 'none'}, segment ${last?.segment ?? 'none'}.`,
    draw: (width) => historyChart(points, { width, label: `History of ${name}'s average score and segment` }),
  });
}

// ---------- changes, merged ----------

export function mergeChanges(history) {
  const items = (history ?? []).filter(isObj).slice().sort((a, b) => String(b.at).localeCompare(String(a.at)));
  const groups = [];
  for (const h of items) {
    const last = groups[groups.length - 1];
    const t = new Date(h.at).getTime();
    if (last && Math.abs(last.start - t) <= BURST_MS) { last.items.push(h); last.start = t; } else groups.push({ end: t, start: t, items: [h] });
  }
  return groups;
}

function describeGroup(group) {
  const field = (type) => (String(type).includes('rank') ? 'rank' : 'segment');
  const parts = [];
  for (const kind of ['segment', 'rank']) {
    const of = group.items.filter((h) => field(h.type) === kind);  // newest first
    if (!of.length) continue;
    const from = of[of.length - 1].old?.[kind]; const to = of[0].new?.[kind];
    parts.push(`${kind} ${from ?? 'none'} → ${to ?? 'none'}${of.length > 1 ? ` (${of.length} changes)` : ''}`);
  }
  const causes = new Map();
  for (const h of group.items) {
    const text = causeText(code, h.cause);
    causes.set(text, (causes.get(text) ?? 0) + 1);
  }
  const causeList = [...causes].map(([text, n]) => (n > 1 ? `${text} (${n})` : text));
  const shown = causeList.slice(0, 3).join('; ') + (causeList.length > 3 ? `; and ${causeList.length - 3} other causes` : '');
  const [from, to] = [group.start, group.end].map((t) => fmtDateTime(new Date(t).toISOString()));
  const when = from === to ? from : `${from} to ${to}`;
  return el('li', { class: 'change-line' }, el('strong', {}, when), ': ', parts.join(', '), el('br', {}),
    el('span', { class: 'change-cause' }, shown));
}

function changesList(history) {
  const groups = mergeChanges(history);
  if (!groups.length) return el('p', {}, 'No recent segment or rank changes.');
  return el('ol', { class: 'nhsuk-list nhsuk-list--border changes', id: 'changes' }, groups.map(describeGroup));
}

// ---------- page ----------

async function load() {
  if (!code) throw new Error('no trust code in the address');
  const data = await getJSON(`/v1/trusts/${encodeURIComponent(code)}`);
  const r = { ...data, ...(isObj(data.result) ? data.result : {}) };
  const name = displayName(data.trust_name ?? r.trust_name) ?? code;
  const league = data.league ?? r.league;
  document.title = `${name} (${code}): NOF live league tables`;
  $('trust-title').textContent = `${name} (${code})`;
  $('back-link').href = `/#${encodeURIComponent(league ?? '')}`;
  $('back-link').textContent = `Back to the ${leagueName(league).toLowerCase()} league table`;
  $('trust-meta').textContent = [leagueName(league), data.methodology_version ? `methodology ${data.methodology_version}` : null,
    present(data.version) ? `version ${data.version}` : null].filter(Boolean).join(' · ');
  let spread = null;
  try { spread = await getJSON(`/v1/leagues/${encodeURIComponent(league)}/metrics`); } catch { /* shown without peers */ }
  const metrics = Array.isArray(data.metrics) ? data.metrics : [];
  const rows = spineRows(metrics, spread);
  const points = historyPoints(data, r);
  const body = [
    el('h2', { class: 'nhsuk-heading-m' }, 'Result'), resultSummary(r),
    el('h2', { class: 'nhsuk-heading-m' }, 'Metrics'),
    rows.length ? spineBlock(rows, name) : el('p', {}, 'No metric has a value and peers to compare with yet.'),
    el('h2', { class: 'nhsuk-heading-m' }, 'History'), points.length ? historyBlock(points, name) : el('p', {}, 'No history yet.'),
    el('h2', { class: 'nhsuk-heading-m' }, 'Recent changes and their causes'), changesList(data.history),
    el('h2', { class: 'nhsuk-heading-m' }, 'Why this result'), reasons(data),
  ];
  $('trust-body').replaceChildren(...body);
}

load().catch((err) => $('trust-body').replaceChildren(el('p', { class: 'error' }, `Could not load ${code}: ${err.message}`)));
findTrust($('find-trust'));
