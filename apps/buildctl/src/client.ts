import { ApiError, Problem, UnreachableError } from './cli/errors';

export type App = 'orchestrator' | 'projector';
export type ClientConfig = Readonly<{ orchestratorUrl: string; projectorUrl: string; token: string }>;
export type Query = Readonly<Record<string, string | number | undefined>>;

/** One server-sent event as the SSE specification assembles it. */
export type ServerSentEvent = { event: string; data: string; id: string | null };

/**
 * The few calls buildctl makes, over Node's fetch. The token goes only into the Authorization header:
 * errors name the app and its URL, never the header.
 */
export class ApiClient {
  constructor(private readonly config: ClientConfig, private readonly fetchImpl: typeof fetch = fetch) {}

  url(app: App, path: string, query: Query = {}): string {
    const base = (app === 'orchestrator' ? this.config.orchestratorUrl : this.config.projectorUrl).replace(/\/+$/, '');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${base}${path}${search ? `?${search}` : ''}`;
  }

  async getJson<T>(app: App, path: string, query?: Query): Promise<T> {
    return (await this.request(app, 'GET', path, query)).json() as Promise<T>;
  }

  async getText(app: App, path: string, query?: Query): Promise<string> {
    return (await this.request(app, 'GET', path, query)).text();
  }

  async postJson<T>(app: App, path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.request(app, 'POST', path, undefined, { ...headers, 'content-type': 'application/json' }, JSON.stringify(body));
    return response.json() as Promise<T>;
  }

  /** A successful response whose body the caller reads (streams); an error status throws ApiError. */
  async request(app: App, method: string, path: string, query?: Query, headers: Record<string, string> = {}, body?: string): Promise<Response> {
    const url = this.url(app, path, query);
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method, body, headers: { ...headers, authorization: `Bearer ${this.config.token}` } });
    } catch (error) {
      throw new UnreachableError(`cannot reach the ${app} at ${new URL(url).origin}: ${reasonOf(error)}`);
    }
    if (!response.ok) throw new ApiError(response.status, await problemOf(response), response.headers.get('retry-after'), url);
    return response;
  }
}

const problemOf = async (response: Response): Promise<Problem | null> => {
  const text = await response.text().catch(() => '');
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Problem) : null;
  } catch {
    return text ? { title: text.slice(0, 200) } : null;
  }
};

/** fetch's own message is "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND…). */
export const reasonOf = (error: unknown): string => {
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
};

/** The body's text as it arrives; a connection that breaks part-way is UnreachableError. */
export async function* textChunks(response: Response, what: string): AsyncGenerator<string> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) yield decoder.decode(chunk, { stream: true });
  } catch (error) {
    throw new UnreachableError(`${what} broke off: ${reasonOf(error)}`);
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Parses a text/event-stream body into events (comments and unknown fields ignored). */
export async function* serverSentEvents(chunks: AsyncIterable<string>): AsyncGenerator<ServerSentEvent> {
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    let boundary: RegExpExecArray | null;
    while ((boundary = /\r?\n\r?\n/.exec(buffer)) !== null) {
      const block = buffer.slice(0, boundary.index);
      buffer = buffer.slice(boundary.index + boundary[0].length);
      const event = parseEventBlock(block);
      if (event) yield event;
    }
  }
}

export const parseEventBlock = (block: string): ServerSentEvent | null => {
  const event: ServerSentEvent = { event: 'message', data: '', id: null };
  let hasData = false;
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') {
      event.data += `${value}\n`;
      hasData = true;
    }
  }
  if (!hasData) return null;
  event.data = event.data.slice(0, -1);
  return event;
};
