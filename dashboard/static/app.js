// The dashboard page: renders GET /v1/cluster every second, the history and the live event
// stream, and runs operator actions as plan (dry run), confirm, result. api.js does the HTTP.

import * as api from './api.js';

const POLL_MS = 1000;
const MAX_EVENTS = 300;
const $ = (id) => document.getElementById(id);

// el builds an element; text children become text nodes, so API strings never become markup.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function setText(id, text) {
  const e = $(id);
  if (e.textContent !== text) e.textContent = text;
}

function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? String(s) : d.toLocaleString();
}

function fmtSecs(s) {
  if (s === undefined || s === null || s < 0) return 'never';
  if (s < 10) return s.toFixed(1) + ' s';
  if (s < 120) return Math.round(s) + ' s';
  return Math.round(s / 60) + ' min';
}

const yesNo = (b) => (b ? 'yes' : 'no');

// ---- status lines ------------------------------------------------------------------------

function showNotice(id, text) {
  const e = $(id);
  e.hidden = !text;
  if (e.textContent !== text) e.textContent = text || '';
}

// reportError shows why a read failed: which token is needed, or that the sidecar is gone.
function reportReadError(err) {
  if (err instanceof api.ApiError && err.authHint(false)) {
    document.body.classList.add('stale');
    showNotice('auth-status', err.status + ': ' + err.authHint(false) + ' (' + err.message + ')');
    showNotice('conn-status', '');
    return;
  }
  document.body.classList.add('stale');
  showNotice('auth-status', '');
  showNotice('conn-status', 'Cannot read the cluster: ' + err.message + ' (retrying every second)');
}

// ---- cluster rendering -------------------------------------------------------------------

function renderCluster(c) {
  document.body.classList.remove('stale');
  showNotice('auth-status', '');
  showNotice('conn-status', '');
  setText('set-name', c.set || '(unnamed set)');
  document.title = 'rsguard ' + (c.set || '') + ' ' + (c.health || '');

  const health = $('health');
  health.dataset.health = c.health || '';
  health.className = 'health health-' + (c.health || 'unknown');
  setText('health', c.health || 'unknown');
  setText('primary', c.primary || 'none');
  setText('term', c.term ? String(c.term) : '–');
  const q = c.quorum || {};
  const visible = (q.visible || []).length;
  setText('quorum', (q.has_quorum ? 'yes: ' : 'NO: ') + visible + ' of ' + (q.configured || 0) +
    ' sidecars visible, ' + (q.needed || 0) + ' needed');
  $('quorum').className = q.has_quorum ? 'ok' : 'bad';

  const auto = c.automatic_failover || {};
  const blocked = auto.blocked || [];
  setText('auto-failover', !auto.enabled ? 'disabled' + (blocked.length ? ' (' + blocked.join(', ') + ')' : '')
    : blocked.length ? 'blocked: ' + blocked.join(', ') : 'enabled, may act');
  $('auto-failover').className = auto.enabled && !blocked.length ? 'ok' : 'warn';
  $('auto-failover').dataset.blocked = blocked.join(' ');

  const an = c.analysis || {};
  setText('analysis', (an.kind || 'unknown') + (an.evidence && an.evidence.length ? ': ' + an.evidence.join('; ') : ''));
  const lf = c.last_failover;
  setText('last-failover', lf ? fmtTime(lf.at) + ' to ' + (lf.to || '?') + (lf.by ? ' by ' + lf.by : '') +
    (lf.reason ? ' (' + lf.reason + ')' : '') : 'none');
  setText('answered-by', c.sidecar || '?');
  setText('coordinator', c.coordinator || '?');
  setText('updated', fmtTime(c.time));

  renderList($('problems'), c.problems || [], (p) => el('li', { text: p }), 'no problems');
  renderPause(c.paused);
  renderMembers(c.members || []);
  renderMatrix(c.sidecars || [], c.members || []);
  renderSidecars(c.sidecars || []);
  renderResync(c.resync);
  renderRequests(c.requests || []);
  renderTargets(c.members || []);
}

function renderList(list, items, make, empty) {
  const nodes = items.map(make);
  if (!nodes.length && empty) nodes.push(el('li', { class: 'empty', text: empty }));
  const now = list.textContent;
  const next = nodes.map((n) => n.textContent).join('');
  if (now !== next || list.children.length !== nodes.length) list.replaceChildren(...nodes);
}

function renderPause(p) {
  $('pause-banner').hidden = !p;
  if (!p) return;
  setText('pause-by', p.by || 'someone');
  setText('pause-at', fmtTime(p.at));
  $('pause-at').setAttribute('datetime', p.at || '');
  setText('pause-why', p.why ? ': ' + p.why : '');
}

// keyedRows updates tbody's rows in place, keyed by data-<key>, so that a focused button or a
// half-done click survives the once-a-second refresh.
function keyedRows(tbody, key, items, idOf, fill) {
  const keep = new Set();
  let prev = null;
  for (const it of items) {
    const id = idOf(it);
    keep.add(id);
    let tr = Array.from(tbody.rows).find((r) => r.dataset[key] === id);
    if (!tr) {
      tr = el('tr');
      tr.dataset[key] = id;
    }
    fill(tr, it);
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== tr) tbody.insertBefore(tr, want);
    prev = tr;
  }
  for (const r of Array.from(tbody.rows)) if (!keep.has(r.dataset[key])) r.remove();
}

function cell(tr, cls, text, attrs) {
  let td = tr.querySelector('td.' + cls);
  if (!td) {
    td = el('td', { class: cls });
    tr.append(td);
  }
  if (text !== null && td.textContent !== text) td.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) td.setAttribute(k, v);
  return td;
}

function renderMembers(members) {
  keyedRows($('members').tBodies[0], 'host', members, (m) => m.host, (tr, m) => {
    tr.className = (m.healthy ? 'healthy' : 'unhealthy') + (m.class ? ' trouble' : '');
    tr.dataset.state = m.state || '';
    cell(tr, 'host', m.host + (m.hidden ? ' (hidden)' : '') + (m.class ? ' – ' + m.class : ''));
    cell(tr, 'sidecar', m.sidecar || '–');
    cell(tr, 'state', m.state || 'UNKNOWN', { 'data-state': m.state || 'UNKNOWN' });
    cell(tr, 'healthy', yesNo(m.healthy), { 'data-ok': yesNo(m.healthy) });
    cell(tr, 'lag', m.arbiter ? '–' : (m.lag_secs || 0).toFixed(1) + ' s');
    cell(tr, 'priority', String(m.priority ?? ''));
    cell(tr, 'votes', String(m.votes ?? ''));
    const td = cell(tr, 'actions', null);
    if (!td.querySelector('button') && !m.arbiter) {
      const b = el('button', { type: 'button', class: 'resync', 'data-host': m.host, text: 'Resync…' });
      b.setAttribute('aria-label', 'Resync ' + m.host);
      b.addEventListener('click', () => plan('resync', 'resync/' + encodeURIComponent(m.host), {}, 'resync ' + m.host));
      td.append(b);
    }
  });
}

function renderMatrix(sidecars, members) {
  const table = $('matrix');
  const head = [el('th', { scope: 'col', text: 'sidecar \\ mongod' })]
    .concat(members.map((m) => el('th', { scope: 'col', text: m.host })));
  const headRow = table.tHead.rows[0];
  if (headRow.textContent !== head.map((h) => h.textContent).join('')) headRow.replaceChildren(...head);
  keyedRows(table.tBodies[0], 'sidecar', sidecars, (s) => s.id, (tr, s) => {
    const rows = [el('th', { scope: 'row', text: s.id })];
    for (const m of members) {
      const seen = (m.seen_by || []).includes(s.id) ? 'yes' : (m.unseen_by || []).includes(s.id) ? 'no' : 'unknown';
      const mark = { yes: '✓', no: '✗', unknown: '?' }[seen];
      rows.push(el('td', {
        class: 'seen-' + seen, 'data-host': m.host, 'data-sidecar': s.id, 'data-seen': seen,
        title: s.id + (seen === 'yes' ? ' reaches ' : seen === 'no' ? ' does not reach ' : ' has no view of ') + m.host,
      }, mark));
    }
    const sig = rows.map((r) => r.textContent + (r.dataset.seen || '')).join('|');
    if (tr.dataset.sig !== sig) {
      tr.replaceChildren(...rows);
      tr.dataset.sig = sig;
    }
  });
}

function renderSidecars(sidecars) {
  keyedRows($('sidecars').tBodies[0], 'sidecar', sidecars, (s) => s.id, (tr, s) => {
    tr.className = s.alive ? (s.ready ? 'healthy' : 'warn') : 'unhealthy';
    cell(tr, 'id', s.id);
    cell(tr, 'mode', s.mode || '');
    cell(tr, 'alive', yesNo(s.alive), { 'data-ok': yesNo(s.alive) });
    cell(tr, 'ready', yesNo(s.ready), { 'data-ok': yesNo(s.ready) });
    cell(tr, 'age', fmtSecs(s.age_secs));
    cell(tr, 'mongod', s.mongod || '–');
  });
}

function renderResync(r) {
  $('resync').hidden = !r;
  if (!r) return;
  const bar = $('resync-progress');
  const known = typeof r.percent === 'number' && r.percent >= 0;
  if (known) bar.value = Math.min(100, r.percent); else bar.removeAttribute('value');
  bar.dataset.percent = known ? String(r.percent) : '';
  setText('resync-text', 'Resync of ' + r.member + ': ' + (r.phase || '?') +
    (known ? ', ' + r.percent.toFixed(0) + ' %' : ', progress unknown') +
    (r.reason ? ' (' + r.reason + ')' : '') + (r.by ? ', run by ' + r.by : ''));
}

function renderRequests(reqs) {
  renderList($('requests'), reqs, (r) => el('li', { 'data-id': r.id, 'data-state': r.state },
    fmtTime(r.created) + ' ' + r.action + (r.to ? ' → ' + r.to : '') + ': ' + r.state +
    (r.reason ? ' (' + r.reason + ')' : '') + (r.actor ? ' by ' + r.actor : '')), 'none');
}

// renderTargets keeps the switchover choices to the secondaries, keeping the operator's pick.
function renderTargets(members) {
  const sel = $('switchover-to');
  const hosts = members.filter((m) => m.state === 'SECONDARY' && !m.arbiter && !m.hidden).map((m) => m.host);
  const now = Array.from(sel.options).slice(1).map((o) => o.value);
  if (now.join('\n') === hosts.join('\n')) return;
  const picked = sel.value;
  sel.replaceChildren(el('option', { value: '', text: 'best candidate' }),
    ...hosts.map((h) => el('option', { value: h, text: h })));
  sel.value = hosts.includes(picked) ? picked : '';
}

// poll reads the cluster once a second. Only the read's failure is caught: a bug in rendering
// stays an uncaught exception, which the browser test fails on.
async function poll() {
  let c = null;
  try {
    c = await api.get('cluster');
  } catch (e) {
    reportReadError(e);
  }
  try {
    if (c) renderCluster(c);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// ---- timeline ----------------------------------------------------------------------------

const seen = new Set();

function addEvent(ev) {
  if (!ev || !ev.id || seen.has(ev.id)) return;
  seen.add(ev.id);
  const list = $('timeline');
  const r = ev.request;
  const ts = Date.parse(ev.time) || 0;
  const li = el('li', { 'data-id': ev.id, 'data-kind': ev.kind, 'data-ts': ts },
    el('time', { datetime: ev.time, text: fmtTime(ev.time) }), ' ',
    el('span', { class: 'kind', text: ev.kind }), ' ',
    el('span', { class: 'summary', text: ev.summary || '' }),
    ev.reason ? el('code', { class: 'reason', text: ev.reason }) : null,
    ev.actor ? el('span', { class: 'actor', text: 'by ' + ev.actor }) : null,
    r && r.state ? el('span', { class: 'state', 'data-state': r.state, text: r.state }) : null);
  // Newest first; the stream is in order, but the history and a reconnect may interleave.
  let before = null;
  for (const other of list.children) {
    if (Number(other.dataset.ts) <= ts) { before = other; break; }
  }
  list.insertBefore(li, before);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

let streamAbort = null;

function setStreamState(s) {
  const e = $('stream-status');
  if (s instanceof api.ApiError) {
    e.dataset.state = 'error';
    e.textContent = 'stream: ' + (s.authHint(false) || s.message);
    return;
  }
  e.dataset.state = s;
  e.textContent = s;
}

async function startTimeline() {
  if (streamAbort) streamAbort.abort();
  const abort = new AbortController();
  streamAbort = abort;
  let after = '';
  try {
    const h = await api.get('history?limit=100', abort.signal);
    const events = (h && h.events) || [];
    events.forEach(addEvent);
    if (events.length) after = events[events.length - 1].id;
  } catch (e) {
    if (abort.signal.aborted) return;
    setStreamState(e instanceof api.ApiError ? e : 'retrying');
  }
  api.streamEvents(after, (ev) => {
    addEvent(ev);
    // An event usually means the cluster changed: do not wait for the next poll.
    api.get('cluster').then(renderCluster, () => {});
  }, setStreamState, abort.signal);
}

// ---- actions: plan, confirm, result --------------------------------------------------------

let pending = null;

function request(extra) {
  const r = Object.assign({}, extra);
  const a = api.actor();
  if (a) r.actor = a;
  const why = $('why').value.trim();
  if (why) r.why = why;
  return r;
}

async function plan(action, path, extra, label) {
  const req = request(extra);
  showResult(null);
  let body;
  try {
    ({ body } = await api.post(path, req, true));
  } catch (e) {
    showProblem(label + ' (plan)', e, true);
    return;
  }
  pending = { action, path, req, label };
  showPlan(label, body || {});
}

function showPlan(label, res) {
  setText('plan-action', label);
  setText('plan-summary', (res.from ? 'from ' + res.from + ' ' : '') + (res.to ? 'to ' + res.to + ' ' : '') +
    (res.executor ? '(carried out by sidecar ' + res.executor + ')' : ''));
  setText('plan-reason', res.reason || '–');
  setText('plan-message', res.message || '');
  const steps = (res.steps || []).map((s) => el('li', { 'data-do': s.do },
    el('code', { text: s.do }), s.host ? ' on ' + s.host : '', s.detail ? ': ' + s.detail : ''));
  if (!steps.length) steps.push(el('li', { class: 'empty', text: 'no steps' }));
  $('plan-steps').replaceChildren(...steps);
  const d = $('confirm-dialog');
  if (!d.open) d.showModal();
  $('cancel').focus();
}

async function confirmPending() {
  const p = pending;
  pending = null;
  $('confirm-dialog').close();
  if (!p) return;
  showResult('pending', p.label + ': sent…');
  let body;
  try {
    let status;
    ({ status, body } = await api.post(p.path, p.req, false));
    // 202: the executor has not answered yet; follow the request until it ends.
    const deadline = Date.now() + 5 * 60 * 1000;
    while (status === 202 && body && body.id && ['pending', 'running'].includes(body.state) && Date.now() < deadline) {
      showResult(body.state, p.label + ': ' + body.state + '…');
      await new Promise((r) => setTimeout(r, 1000));
      body = await api.get('requests/' + encodeURIComponent(body.id));
    }
  } catch (e) {
    showProblem(p.label, e, true);
    return;
  }
  showActionResult(p.label, body || {});
  api.get('cluster').then(renderCluster, () => {});
}

function showResult(state, ...children) {
  const r = $('result');
  r.hidden = state === null;
  r.dataset.state = state || '';
  r.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
}

function showActionResult(label, res) {
  showResult(res.state || 'done',
    el('strong', { text: label + ': ' + (res.state || '?') }),
    res.reason ? el('code', { class: 'reason', text: res.reason }) : null,
    res.message ? el('p', { text: res.message }) : null,
    res.duration_ms ? el('p', { text: 'took ' + res.duration_ms + ' ms' }) : null);
}

function showProblem(label, err, isAdmin) {
  if (!(err instanceof api.ApiError)) {
    showResult('error', el('strong', { text: label + ': ' + err.message }));
    return;
  }
  const p = err.problem || {};
  const hint = err.authHint(isAdmin);
  const state = p.result && p.result.state ? p.result.state : 'error';
  showResult(state === 'refused' || state === 'failed' ? state : 'error',
    el('strong', { text: label + ': ' + (p.title || 'HTTP ' + err.status) + ' (' + err.status + ')' }),
    p.detail ? el('p', { class: 'detail', text: p.detail }) : null,
    p.field ? el('p', { class: 'field' }, 'field: ', el('code', { text: p.field })) : null,
    p.reason ? el('p', { class: 'reason' }, 'reason: ', el('code', { text: p.reason })) : null,
    p.result && p.result.steps && p.result.steps.length
      ? el('ol', {}, ...p.result.steps.map((s) => el('li', {}, s.do + (s.host ? ' on ' + s.host : '') +
        (s.result ? ': ' + s.result : '')))) : null,
    hint ? el('p', { class: 'auth-hint', text: hint }) : null);
}

// ---- wiring --------------------------------------------------------------------------------

function wire() {
  $('token').value = api.token();
  $('actor').value = api.actor();
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    api.setToken($('token').value.trim());
    api.setActor($('actor').value.trim());
    showNotice('auth-status', '');
    api.get('cluster').then(renderCluster, reportReadError);
    startTimeline(); // reconnect the stream with the new token
  });
  $('btn-forget').addEventListener('click', () => {
    api.setToken('');
    $('token').value = '';
    startTimeline();
  });
  $('btn-switchover').addEventListener('click', () => {
    const to = $('switchover-to').value;
    plan('switchover', 'switchover', to ? { to } : {}, 'switchover' + (to ? ' to ' + to : ''));
  });
  $('btn-pause').addEventListener('click', () => plan('pause', 'pause', {}, 'pause'));
  $('btn-resume').addEventListener('click', () => plan('resume', 'resume', {}, 'resume'));
  $('btn-acknowledge').addEventListener('click', () => plan('acknowledge', 'acknowledge', {}, 'acknowledge'));
  $('confirm').addEventListener('click', confirmPending);
  $('cancel').addEventListener('click', () => { pending = null; $('confirm-dialog').close(); });
  $('confirm-dialog').addEventListener('close', () => { pending = null; });
}

wire();
poll();
startTimeline();
