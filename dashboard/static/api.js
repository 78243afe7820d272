// The dashboard's only way to the sidecar: the /v1 API (api/doc.go), with the bearer token from
// sessionStorage. No DOM here, so that app.js owns what the page shows.

const TOKEN_KEY = 'rsguard.token';
const ACTOR_KEY = 'rsguard.actor';

// The page lives at <prefix>/ui/, the API at <prefix>/v1/: relative URLs keep working behind a
// reverse proxy that mounts the sidecar under a path.
const BASE = new URL('../v1/', document.baseURI);

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
}
export function actor() { return sessionStorage.getItem(ACTOR_KEY) || ''; }
export function setActor(a) {
  if (a) sessionStorage.setItem(ACTOR_KEY, a); else sessionStorage.removeItem(ACTOR_KEY);
}

function headers(extra) {
  const h = Object.assign({ Accept: 'application/json' }, extra || {});
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

// ApiError is a non-2xx answer: status, and the RFC 7807 problem when the body is one.
export class ApiError extends Error {
  constructor(status, problem, path) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status + ' from ' + path));
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem || { title: 'HTTP ' + status, status };
    this.path = path;
  }
  // authHint says which token a 401 or 403 needs; '' for other statuses.
  authHint(isAdmin) {
    if (this.status === 401) {
      return isAdmin
        ? 'This action needs the admin token (http.admin_token_file): enter it above.'
        : 'The API needs a token: enter the read token or the admin token above.';
    }
    if (this.status === 403) {
      return 'Forbidden: actions need the admin token (a read token only reads), ' +
        'and the sidecar must have an admin token configured.';
    }
    return '';
  }
}

async function decode(res, path) {
  const type = res.headers.get('Content-Type') || '';
  let body = null;
  if (type.includes('json')) {
    try { body = await res.json(); } catch (e) { body = null; }
  } else {
    const text = await res.text();
    if (!res.ok) body = { title: 'HTTP ' + res.status, status: res.status, detail: text.trim() };
  }
  if (!res.ok) throw new ApiError(res.status, body, path);
  return { status: res.status, body };
}

// READ_TIMEOUT_MS bounds a read, so that a sidecar that accepts but never answers does not stall
// the once-a-second poll.
const READ_TIMEOUT_MS = 10000;

export async function get(path, signal) {
  signal = signal || AbortSignal.timeout(READ_TIMEOUT_MS);
  const res = await fetch(new URL(path, BASE), { headers: headers(), cache: 'no-store', signal });
  return (await decode(res, path)).body;
}

// post sends an ActionRequest; dryRun asks for the plan only.
export async function post(path, request, dryRun) {
  const url = new URL(path, BASE);
  if (dryRun) url.searchParams.set('dry_run', '1');
  const res = await fetch(url, {
    method: 'POST',
    headers: headers({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(request || {}),
    cache: 'no-store',
  });
  return decode(res, path);
}

// SSEParser turns the text of a text/event-stream, in chunks cut anywhere, into events
// {id, event, data} as the HTML standard's parsing rules say (a blank line dispatches, data
// lines join with \n, a comment line starts with ':', CR, LF and CRLF all end a line).
export class SSEParser {
  constructor() { this.buf = ''; this.reset(); this.lastId = ''; this.retry = 0; }
  reset() { this.data = []; this.event = ''; }
  push(chunk) {
    const out = [];
    this.buf += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone CR at the end of a chunk may be the first half of a CRLF: wait for more.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }
  line(line, out) {
    if (line === '') {
      if (this.data.length > 0) {
        out.push({ id: this.lastId, event: this.event || 'message', data: this.data.join('\n') });
      }
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data': this.data.push(value); break;
      case 'event': this.event = value; break;
      case 'id': if (!value.includes('\0')) this.lastId = value; break;
      case 'retry': if (/^\d+$/.test(value)) this.retry = Number(value); break;
    }
  }
}

// streamEvents reads GET /v1/events with fetch, because EventSource cannot send the
// Authorization header, and reconnects (with Last-Event-ID) until signal aborts. onEvent gets
// each decoded api.Event; onState gets 'connecting', 'live', 'retrying' or an ApiError.
export async function streamEvents(afterId, onEvent, onState, signal) {
  let lastId = afterId || '';
  let delay = 1000;
  while (!signal.aborted) {
    onState('connecting');
    try {
      const h = headers({ Accept: 'text/event-stream' });
      if (lastId) h['Last-Event-ID'] = lastId;
      const res = await fetch(new URL('events', BASE), { headers: h, cache: 'no-store', signal });
      if (!res.ok) await decode(res, 'events'); // throws the ApiError
      onState('live');
      delay = 1000;
      const parser = new SSEParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const ev of parser.push(value)) {
          if (ev.id) lastId = ev.id;
          let decoded;
          try { decoded = JSON.parse(ev.data); } catch (e) { continue; }
          onEvent(decoded, ev.event);
        }
        if (parser.retry > 0) delay = parser.retry;
      }
      onState('retrying'); // the server ended the stream
    } catch (e) {
      if (signal.aborted) return;
      onState(e instanceof ApiError ? e : 'retrying');
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) delay = 5000;
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 15000);
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
