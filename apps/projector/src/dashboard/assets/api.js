// Talking to the APIs: the token kept in this browser, JSON reads, and server-sent events read
// with fetch (an EventSource cannot send the Authorization header).

const TOKEN_KEY = 'build-orchestrator.token';

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value.trim()),
  clear: () => localStorage.removeItem(TOKEN_KEY),
  /** The principal a token names (`bo.<principal>.<token id>.<secret>`), to show who is signed in. */
  principal: (value) => (value ?? '').split('.')[1] ?? '',
};

/** A refused or failed request, with the problem details the API answered. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

const authorization = () => ({ authorization: `Bearer ${token.get()}` });

/** The answer of a GET, as text; ApiError for anything but 2xx. */
export const getText = async (url, signal) => {
  const response = await fetch(url, { headers: authorization(), signal });
  const text = await response.text();
  if (!response.ok) {
    let problem = null;
    try { problem = JSON.parse(text); } catch { /* not a problem document */ }
    if (response.status === 401) window.dispatchEvent(new CustomEvent('unauthorized', { detail: problem }));
    throw new ApiError(response.status, problem);
  }
  return text;
};

export const getJson = async (url, signal) => JSON.parse(await getText(url, signal));

/** A query string of the parameters that have a value. */
export const query = (params) => {
  const entries = Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries)}`;
};

/** Where the command API listens, from the projector's configuration: the same host, its own port. */
let orchestrator = null;
export const orchestratorUrl = async () => {
  orchestrator ??= fetch('/dashboard/config.json').then((response) => response.json())
    .then((config) => `${location.protocol}//${location.hostname}:${config.orchestratorPort}`);
  return orchestrator;
};

/** Splits an SSE text stream into events ({ event, data, id }); comments and partial lines wait. */
const parseEvents = (buffer, onEvent) => {
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop();
  for (const block of blocks) {
    const message = { event: 'message', data: [], id: null };
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') message.data.push(value);
      else if (field === 'event') message.event = value;
      else if (field === 'id') message.id = value;
    }
    if (message.data.length > 0) onEvent({ ...message, data: message.data.join('\n') });
  }
  return rest;
};

/**
 * Reads server-sent events from `url` until `signal` aborts or the server ends the stream. Resumes
 * after a dropped connection from the last event id, as an EventSource would.
 */
export const followEvents = async (url, onEvent, signal, onState = () => {}) => {
  let lastEventId = null;
  while (!signal.aborted) {
    try {
      const headers = { ...authorization(), accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) };
      const response = await fetch(url, { headers, signal });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
      onState('live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer = parseEvents(buffer + value, (message) => {
          if (message.id !== null) lastEventId = message.id;
          onEvent(message);
        });
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status < 500) { onState('refused', error); return; }
      onState('reconnecting', error);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
};
