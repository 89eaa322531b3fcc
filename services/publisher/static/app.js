// NOF live dashboard, the league page: league tabs, a caterpillar chart, a sortable table, "Find a trust" and a
// feed of segment moves, kept current over Server-Sent Events without reloading. Trust names link to trust pages.
import {
  $, causeText, chartBlock, csvText, displayName, distanceText, download, el, findTrust, fmtTime,
  isObj, knownLeagues, leagueName, matches, present, segClass, segmentBadge, srOnly, withRange,
} from './common.js';
import { caterpillar } from './build/charts.js';

const STREAM_TYPES = 'segment.changed,rank.changed,assessment.changed,segment.worsened,segment.improved';
const EVENT_TYPES = ['segment.changed', 'rank.changed', 'assessment.changed',
  'segment.worsened', 'segment.improved', 'overflow', 'gap'];
const EVENT_PREFIXES = ['', 'uk.nhs.nof.'];  // types are matched by suffix; these are only for listeners
const SORT_LABELS = { rank: 'rank', trust_name: 'trust', segment: 'segment', average: 'average score',
  unadjusted_rank: 'unadjusted rank', completeness: 'metrics scored',
  distance_to_next_segment: 'distance to next segment' };
const TEXT_KEYS = new Set(['trust_name']);
const RECONCILE_DELAY_MS = 250;
const FIXED_CUTOFFS = ['2.10', '2.35', '2.70'];

const state = {
  leagues: [], league: null,
  tables: new Map(),      // league -> {snapshot, etag}
  moves: new Map(),       // league -> Map(trust code -> {from, to}) of rank movements
  minVersion: new Map(),  // league -> highest league_version seen in events
  sort: { key: 'rank', dir: 'ascending' },
  source: null, opened: false, useTypes: true, resumeFrom: null,
  seen: [], feedKeys: new Map(), flash: new Set(),
  reconcileTimer: null, filter: { text: '', region: '', subtype: '' }, chart: null,
  feed: new Map(),        // move key -> its feed item
};

// ---------- league table ----------

function sortValue(entry, key) {
  if (key === 'completeness') {
    return entry.applicable_metrics ? entry.scored_metrics / entry.applicable_metrics : null;
  }
  const v = entry[key];
  if (!present(v)) return null;
  return TEXT_KEYS.has(key) ? String(v) : Number(v);
}

function sortedEntries(entries) {
  const { key, dir } = state.sort;
  const sign = dir === 'ascending' ? 1 : -1;
  return [...entries].sort((a, b) => {
    const va = sortValue(a, key); const vb = sortValue(b, key);
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;  // missing values always last
    } else if (va !== vb) {
      return sign * (typeof va === 'string' ? va.localeCompare(vb) : va - vb);
    }
    return (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.trust_code.localeCompare(b.trust_code);
  });
}

function rankCell(entry, move) {
  const cell = el('td', { class: 'rank-cell' }, withRange(entry.rank, entry.rank_range, 'unranked'));
  if (move && move.from !== move.to) {
    const up = move.to < move.from;
    const places = Math.abs(move.from - move.to);
    cell.append(' ', el('span', { class: `move ${up ? 'move-up' : 'move-down'}`, 'aria-hidden': 'true' }, up ? '▲' : '▼'),
      srOnly(`${up ? 'up' : 'down'} ${places} ${places === 1 ? 'place' : 'places'} from ${move.from}`));
  }
  return cell;
}

function segmentCell(entry) {
  const cell = el('td', { class: 'segment-cell' }, segmentBadge(entry.segment));
  if (entry.capped) {
    cell.append(' ', el('span', { class: 'badge badge-capped' }, 'capped (deficit)'));
    if (present(entry.raw_segment)) cell.append(el('span', { class: 'raw-segment' }, ` raw ${entry.raw_segment}`));
  }
  return cell;
}

function trustCell(entry) {
  const link = el('a', { class: 'trust-link', 'data-trust': entry.trust_code,
    href: `/trusts/${encodeURIComponent(entry.trust_code)}` }, displayName(entry.trust_name) ?? entry.trust_code);
  return el('th', { scope: 'row', class: 'trust-cell' }, link,
    el('span', { class: 'trust-code' }, [entry.trust_code, entry.subtype, entry.region].filter(present).join(' · ')));
}

function renderRow(entry, move) {
  const classes = ['row', segClass(entry.segment), state.flash.has(entry.trust_code) ? 'changed' : ''];
  const completeness = present(entry.applicable_metrics)
    ? `${entry.scored_metrics ?? 0}/${entry.applicable_metrics} metrics` : '—';
  return el('tr', { class: classes.join(' ').trim(), 'data-trust': entry.trust_code,
    'data-segment': entry.segment ?? '' },
  rankCell(entry, move), trustCell(entry), segmentCell(entry),
  el('td', { class: 'average-cell num' }, withRange(entry.average, entry.average_range)),
  el('td', { class: 'num' }, entry.unadjusted_rank ?? '—'),
  el('td', { class: 'completeness-cell' }, completeness),
  el('td', { class: present(entry.distance_to_next_segment) ? 'num distance-cell' : 'distance-cell' }, distanceText(entry)));
}

function renderTable() {
  const league = state.league;
  const snapshot = state.tables.get(league)?.snapshot;
  const focused = document.activeElement?.closest?.('#league-rows a[data-trust]')?.dataset.trust;
  const { key, dir } = state.sort;
  $('league-caption').textContent = `${leagueName(league)}: league table, sorted by ${SORT_LABELS[key]} (${dir})`;
  for (const th of document.querySelectorAll('#league-table thead th')) {
    th.setAttribute('aria-sort', th.dataset.key === key ? dir : 'none');
  }
  if (!snapshot) return;
  const moves = state.moves.get(league) ?? new Map();
  const shown = sortedEntries(snapshot.entries ?? []).filter((e) => matches(e, state.filter));
  $('league-rows').replaceChildren(...shown.map((e) => renderRow(e, moves.get(e.trust_code))));
  if (!shown.length) $('league-rows').replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'No trust in this league matches the search.')));
  $('league-meta').textContent = [`${(snapshot.entries ?? []).length} trusts`,
    present(snapshot.version) ? `version ${snapshot.version}` : null,
    snapshot.methodology_version ? `methodology ${snapshot.methodology_version}` : null,
    snapshot.updated_at ? `updated ${fmtTime(snapshot.updated_at)}` : null].filter(Boolean).join(' · ');
  if (focused) document.querySelector(`#league-rows a[data-trust="${CSS.escape(focused)}"]`)?.focus();
  renderChart(league, snapshot);
}

function onSortClick(event) {
  const th = event.target.closest('th[data-key]');
  if (!th || !event.target.closest('button')) return;
  const key = th.dataset.key;
  const dir = state.sort.key === key && state.sort.dir === 'ascending' ? 'descending' : 'ascending';
  state.sort = { key, dir };
  renderTable();
}

// ---------- snapshots: fetch, reconcile, rank movements ----------

function recordMoves(league, before, after) {
  const moves = state.moves.get(league) ?? new Map();
  const old = new Map(before.map((e) => [e.trust_code, e.rank]));
  for (const e of after) noteMove(moves, e.trust_code, old.get(e.trust_code), e.rank);
  state.moves.set(league, moves);
}

function noteMove(moves, code, from, to) {
  if (present(from) && present(to) && from !== to) moves.set(code, { from, to });
}

async function fetchLeague(league) {
  const cached = state.tables.get(league);
  const headers = cached?.etag ? { 'If-None-Match': cached.etag } : {};
  const res = await fetch(`/v1/leagues/${encodeURIComponent(league)}`, { headers, cache: 'no-store' });
  if (res.status === 304 && cached) return cached;
  if (res.status === 404) throw new Error('no table yet: it appears when the first data for this league is scored');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return { snapshot: await res.json(), etag: res.headers.get('ETag') };
}

async function reconcile(league, attempt = 0) {
  try {
    const fetched = await fetchLeague(league);
    const current = state.tables.get(league);
    // An event can arrive before the snapshot it belongs to is readable: keep the event's patch, try again.
    const behind = (fetched.snapshot.version ?? Infinity) < (state.minVersion.get(league) ?? -Infinity);
    if (behind && attempt < 8) {
      setTimeout(() => reconcile(league, attempt + 1), Math.min(2000, 250 * 2 ** attempt));
      if (current) return;
    }
    if (fetched !== current) {
      if (current?.snapshot) recordMoves(league, current.snapshot.entries ?? [], fetched.snapshot.entries ?? []);
      state.tables.set(league, fetched);
    }
    if (league === state.league) renderTable();
  } catch (err) {
    if (!state.tables.has(league)) $('league-rows').replaceChildren(el('tr', {}, el('td', { colspan: 7 }, `Could not load the league: ${err.message}`)));
  }
}

function scheduleReconcile(league) {
  clearTimeout(state.reconcileTimer);
  state.reconcileTimer = setTimeout(() => reconcile(league), RECONCILE_DELAY_MS);
}

function patchEntry(league, code, fields) {
  const snapshot = state.tables.get(league)?.snapshot;
  const entries = snapshot?.entries ?? [];
  const i = entries.findIndex((e) => e.trust_code === code);
  if (i < 0) return;
  entries[i] = { ...entries[i], ...fields };
  flashRow(code);
}

function flashRow(code) {
  state.flash.add(code);
  setTimeout(() => { state.flash.delete(code); document.querySelector(`#league-rows tr[data-trust="${CSS.escape(code)}"]`)?.classList.remove('changed'); }, 4000);
}

// ---------- live events ----------

function setConnection(kind, text) {
  const box = document.querySelector('.connection');
  box.dataset.state = kind;
  $('connection-text').textContent = text;
}

function openStream() {
  state.source?.close();
  const params = new URLSearchParams({ league: state.league });
  if (state.useTypes) {
    params.set('type', STREAM_TYPES);   // the publisher's filter (repeatable or comma-separated)
    params.set('types', STREAM_TYPES);  // the same filter as the API contract first spelt it
  }
  if (state.resumeFrom) params.set('last_event_id', state.resumeFrom);
  const source = new EventSource(`/v1/stream?${params}`);
  state.source = source;
  state.opened = false;
  setConnection('connecting', 'Connecting to live updates…');
  source.onopen = () => {
    if (source !== state.source) return;
    state.opened = true;
    setConnection('live', `Live: updates for ${leagueName(state.league)} appear as they happen`);
    scheduleReconcile(state.league);  // catch up on anything missed while connecting (a 304 when nothing was)
  };
  source.onerror = () => onStreamError(source);
  source.onmessage = onStreamMessage;
  for (const prefix of EVENT_PREFIXES) {
    for (const type of EVENT_TYPES) source.addEventListener(prefix + type, onStreamMessage);
  }
}

function onStreamError(source) {
  if (source !== state.source) return;
  if (source.readyState === EventSource.CONNECTING) {
    setConnection('reconnecting', 'Connection lost: reconnecting…');
    return;
  }
  state.resumeFrom = null;  // a refused resume position must not be retried: start from now and re-fetch
  if (!state.opened && state.useTypes) {
    state.useTypes = false;  // the server may not filter by type: take everything, filter here
    openStream();
  } else {
    setConnection('offline', 'Offline: retrying in 5 seconds');
    setTimeout(() => { if (source === state.source) openStream(); }, 5000);
  }
}

function alreadySeen(id) {
  if (!present(id)) return false;
  if (state.seen.includes(id)) return true;
  state.seen.push(id);
  if (state.seen.length > 500) state.seen.shift();
  return false;
}

function onStreamMessage(event) {
  if (event.lastEventId) state.resumeFrom = event.lastEventId;
  if (event.type.endsWith('overflow')) return restartStream();
  if (event.type === 'gap') return scheduleReconcile(state.league);  // some history was trimmed: re-fetch
  let message;
  try { message = JSON.parse(event.data); } catch { return; }
  if (!isObj(message)) return;
  const type = String(message.type ?? event.type);
  if (type.endsWith('overflow')) return restartStream();
  if (alreadySeen(message.id ?? event.lastEventId)) return;
  const data = isObj(message.data) ? message.data : message;
  const league = data.league ?? state.league;
  const code = data.trust_code ?? message.subject;
  handleChange(league, type, code, data);
}

function restartStream() {
  openStream();  // the server dropped us for falling behind: reopen (resumes) and reconcile
  scheduleReconcile(state.league);
}

function handleChange(league, type, code, data) {
  if (present(data.league_version)) {
    state.minVersion.set(league, Math.max(state.minVersion.get(league) ?? -Infinity, Number(data.league_version)));
  }
  if (type.endsWith('segment.changed')) {
    const fields = {};
    for (const k of ['segment', 'raw_segment', 'capped', 'average', 'average_range']) {
      if (isObj(data.new) && k in data.new) fields[k] = data.new[k];
    }
    patchEntry(league, code, fields);
    addFeedEntry(league, code, data);
  } else if (type.endsWith('rank.changed')) {
    const fields = isObj(data.new) ? { rank: data.new.rank, unadjusted_rank: data.new.unadjusted_rank } : {};
    const old = state.tables.get(league)?.snapshot?.entries?.find((e) => e.trust_code === code);
    const moves = state.moves.get(league) ?? new Map();
    noteMove(moves, code, data.old?.rank ?? old?.rank, fields.rank);
    state.moves.set(league, moves);
    patchEntry(league, code, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
  } else if (type.endsWith('segment.worsened') || type.endsWith('segment.improved')) {
    const to = 'new_segment' in data ? data.new_segment : segOf(data.new);
    if (present(to)) patchEntry(league, code, { segment: to });
    addFeedEntry(league, code, data);
  }
  if (league !== state.league) return;
  renderTable();
  scheduleReconcile(league);
}

// ---------- feed of segment moves ----------

const segOf = (x) => (isObj(x) ? x.segment : x);
const FEED_WINDOW_MS = 30000;

// "Beyond the likely range" comes with the publisher's segment alert (beyond_uncertainty); a segment.changed
// carries both likely ranges, so the page can say it before the alert arrives (the same rule's stand-in).
function uncertaintyOf(data) {
  if (typeof data.beyond_uncertainty === 'boolean') return data.beyond_uncertainty;
  const lo = (r) => (Array.isArray(r) ? Number(r[0]) : NaN);
  const hi = (r) => (Array.isArray(r) ? Number(r[1]) : NaN);
  const from = segOf(data.old); const to = segOf(data.new);
  const oldRange = data.old?.average_range; const newRange = data.new?.average_range;
  if (!present(from) || !present(to) || from === 5 || to === 5 || !oldRange || !newRange) return null;
  if (data.old?.average === data.new?.average) return null;  // the cap or segment 5, not the average
  return to > from ? lo(newRange) > hi(oldRange) : hi(newRange) < lo(oldRange);
}

function noteText(beyond) {
  if (beyond === true) return 'Beyond the likely range: the move is larger than the uncertainty in the average.';
  if (beyond === false) return 'Within the likely range: the move may be down to chance.';
  return null;
}

function applyFeedFilter() {
  const hide = $('hide-within').checked;
  for (const item of $('feed-list').children) item.hidden = hide && item.dataset.uncertainty === 'within';
}

function addFeedEntry(league, code, data) {
  const alert = 'new_segment' in data || 'old_segment' in data;
  const from = alert ? data.old_segment : segOf(data.old);
  const to = alert ? data.new_segment : segOf(data.new);
  const key = `${league}|${code}|${from}|${to}`;
  const now = Date.now();
  const beyond = uncertaintyOf(data);
  const known = state.feed.get(key);
  if (known && now - known.at < FEED_WINDOW_MS) {  // the alert following its segment.changed: add what it knows
    if (beyond !== null && (typeof data.beyond_uncertainty === 'boolean' || known.beyond === null)) setNote(known, beyond);
    return;
  }
  const entry = state.tables.get(league)?.snapshot?.entries?.find((e) => e.trust_code === code);
  const worse = present(from) && present(to) ? (to > from ? 'worsened' : 'improved') : 'changed';
  const item = el('li', { class: `feed-item ${segClass(to)}`, 'data-trust': code },
    el('p', { class: 'feed-head' }, el('time', { datetime: new Date(now).toISOString() }, fmtTime()),
      ' ', el('span', { class: 'feed-league' }, leagueName(league))),
    el('p', {}, el('a', { href: `/trusts/${encodeURIComponent(code)}` }, `${displayName(entry?.trust_name) ?? code} (${code})`),
      `: segment ${worse} `, segmentBadge(from), ' → ', segmentBadge(to)),
    el('p', { class: 'feed-cause' }, causeText(code, data.cause)),
    el('p', { class: 'feed-note' }));
  const record = { at: now, item, beyond: null };
  state.feed.set(key, record);
  setNote(record, beyond);
  $('feed-list').prepend(item);
  $('feed-empty').hidden = true;
  while ($('feed-list').children.length > 100) $('feed-list').lastElementChild.remove();
}

function setNote(record, beyond) {
  record.beyond = beyond;
  const note = record.item.querySelector('.feed-note');
  note.replaceChildren(...(noteText(beyond) ? [el('strong', { class: `nhsuk-tag ${beyond ? 'nhsuk-tag--red' : 'nhsuk-tag--grey'}` },
    beyond ? 'beyond the likely range' : 'within the likely range'), ' ', noteText(beyond).split(': ')[1]] : []));
  record.item.dataset.uncertainty = beyond === true ? 'beyond' : beyond === false ? 'within' : 'unknown';
  applyFeedFilter();
}

// ---------- the caterpillar chart ----------

function overlapSummary(entries) {
  const ranked = entries.filter((e) => present(e.average) && Array.isArray(e.average_range))
    .sort((a, b) => Number(a.average) - Number(b.average));
  if (!ranked.length) return 'No trust in this league has an average yet.';
  let overlapping = 0;
  for (let i = 0; i < ranked.length; i += 1) {
    const [lo, hi] = ranked[i].average_range.map(Number);
    const near = [ranked[i - 1], ranked[i + 1]].filter(Boolean);
    if (near.some((n) => Number(n.average_range[0]) <= hi && Number(n.average_range[1]) >= lo)) overlapping += 1;
  }
  const capped = entries.filter((e) => e.capped).length;
  return `Each dot is a trust's average score, best on the left; its line is the likely range. ${overlapping} of `
    + `${ranked.length} trusts have a likely range that overlaps a neighbour's, so the data cannot put them in order. `
    + `Dashed lines are the segment cut-offs (${FIXED_CUTOFFS.join(', ')}).`
    + (capped ? ` ${capped} ${capped === 1 ? 'trust is' : 'trusts are'} held at segment 3 by the deficit cap (triangles).` : '');
}

function renderChart(league, snapshot) {
  const entries = snapshot.entries ?? [];
  const cutoffs = (snapshot.segment_cutoffs ?? FIXED_CUTOFFS).map(Number);
  if (!state.chart || state.chart.league !== league) {
    const block = chartBlock({
      id: 'caterpillar', title: `${leagueName(league)}: average scores with their likely ranges`,
      summary: '', filename: `nof-${league}-caterpillar`, heading: 'h2',
      draw: (width) => caterpillar(state.chart.entries, { cutoffs: state.chart.cutoffs, width,
        label: `Caterpillar chart of ${leagueName(league)}: each trust's average score and likely range` }),
    });
    state.chart = { league, block, entries, cutoffs };
    $('league-charts').replaceChildren(block);
  }
  state.chart.entries = entries;
  state.chart.cutoffs = cutoffs;
  $('caterpillar-summary').textContent = overlapSummary(entries);
  clearTimeout(state.chart.timer);
  state.chart.timer = setTimeout(() => state.chart.block.render(), 60);
}

// ---------- download ----------

const CSV_HEADER = ['Region', 'Trust_type', 'Trust_subtype', 'Trust_code', 'Trust_name', 'Quarter', 'Average_score',
  'Segment', 'Trust_in_financial_deficit', 'Rank', 'Average_score_likely_low', 'Average_score_likely_high',
  'Rank_likely_low', 'Rank_likely_high', 'Unadjusted_rank', 'Raw_segment', 'Capped', 'Metrics_scored',
  'Metrics_applicable', 'Distance_to_next_segment', 'Methodology_version', 'League_version'];
const TRUST_TYPES = { acute: 'Acute trust', 'mental-health-community': 'Mental health and community trust',
  ambulance: 'Ambulance trust' };

function downloadCsv() {
  const league = state.league;
  const snapshot = state.tables.get(league)?.snapshot;
  if (!snapshot) return;
  const yesNo = (v) => (v === true ? 'Yes' : v === false ? 'No' : '');
  const rows = (snapshot.entries ?? []).map((e) => [e.region, TRUST_TYPES[league] ?? league, e.subtype, e.trust_code,
    e.trust_name, e.period ?? '', e.average, e.segment, yesNo(e.in_deficit), e.rank, e.average_range?.[0],
    e.average_range?.[1], e.rank_range?.[0], e.rank_range?.[1], e.unadjusted_rank, e.raw_segment, yesNo(e.capped),
    e.scored_metrics, e.applicable_metrics, e.distance_to_next_segment, snapshot.methodology_version, snapshot.version]);
  download(`nof-${league}-v${snapshot.version ?? 0}.csv`, new Blob([csvText(CSV_HEADER, rows)], { type: 'text/csv' }));
}

// ---------- tabs (WAI-ARIA tabs pattern, automatic activation) ----------

function renderTabs() {
  $('league-tabs').replaceChildren(...state.leagues.map((slug) => el('button', {
    type: 'button', role: 'tab', id: `tab-${slug}`, 'data-league': slug, 'aria-controls': 'league-panel',
    'aria-selected': String(slug === state.league), tabindex: slug === state.league ? '0' : '-1',
  }, leagueName(slug))));
  $('league-panel').setAttribute('aria-labelledby', `tab-${state.league}`);
}

function selectLeague(slug, { focus = false } = {}) {
  const changed = slug !== state.league;
  state.league = slug;
  renderTabs();
  if (focus) $(`tab-${slug}`).focus();
  if (!changed) return;
  history.replaceState(null, '', `#${slug}`);
  $('sensitivity-link').href = `/leagues/${encodeURIComponent(slug)}/sensitivity`;
  state.resumeFrom = null;
  if (!state.tables.has(slug)) $('league-rows').replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'Loading…')));
  renderTable();
  reconcile(slug);
  openStream();
}

function onTabKey(event) {
  const i = state.leagues.indexOf(state.league);
  const n = state.leagues.length;
  const next = { ArrowRight: (i + 1) % n, ArrowLeft: (i - 1 + n) % n, Home: 0, End: n - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  selectLeague(state.leagues[next], { focus: true });
}

// ---------- start ----------

async function start() {
  $('league-table').querySelector('thead').addEventListener('click', onSortClick);
  $('league-tabs').addEventListener('click', (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab) selectLeague(tab.dataset.league);
  });
  $('league-tabs').addEventListener('keydown', onTabKey);
  $('hide-within').addEventListener('change', applyFeedFilter);
  $('download-csv').addEventListener('click', downloadCsv);
  state.leagues = await knownLeagues();
  const wanted = decodeURIComponent(location.hash.slice(1));
  selectLeague(state.leagues.includes(wanted) ? wanted : state.leagues[0]);
  findTrust($('find-trust'), { onFilter: (filter) => { state.filter = filter; renderTable(); } });
}

start();
