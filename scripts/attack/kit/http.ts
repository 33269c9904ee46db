/** HTTP requests to the target, answered with what the replay judges: status, headers, body. */
import net from 'node:net';
import tls from 'node:tls';
import type { Target } from './target';

/** How long one request may take before the replay counts it as unanswered. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface Answer {
  status: number;
  headers: Headers;
  /** The body parsed as JSON when the answer says it is JSON, else its text. */
  body: unknown;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON (with `content-type: application/json` unless `headers` names another). */
  json?: unknown;
  /** Sent as it is. */
  raw?: string | FormData;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** One request; throws only when the server did not answer (refused, reset, timed out). */
export async function request(
  target: Target,
  method: string,
  route: string,
  options: RequestOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | FormData | undefined;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  } else {
    body = options.raw;
  }
  const response = await fetch(`${target.url}${route}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text !== '';
  let parsed: unknown = text;
  if (json) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // Said JSON, was not: judged as text.
    }
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The `code` of an answer in our error shape `{error:{code,message}}`, or undefined when it is not that shape. */
export function errorCode(answer: { body: unknown }): string | undefined {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') return undefined;
  return error.code;
}

/** `status code` for a detail line, e.g. `400 bad_request` or `500 (not our error shape)`. */
export function describeAnswer(answer: { status: number; body: unknown }): string {
  const code = errorCode(answer);
  if (answer.status < 400) return String(answer.status);
  return code ? `${answer.status} ${code}` : `${answer.status} (not our error shape)`;
}

/** A plain TCP (or TLS) connection to the target, for what fetch cannot send or hold open. */
export function connectRaw(target: Target): net.Socket {
  return target.https
    ? tls.connect({ host: target.host, port: target.port, servername: target.host })
    : net.connect({ host: target.host, port: target.port });
}

/**
 * Writes `bytes` on a fresh connection and reads until the server closes it (or `timeoutMs`):
 * for requests fetch refuses to make, such as a garbage request line. Answers the status and body.
 */
export function rawExchange(target: Target, bytes: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connectRaw(target);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks).toString('utf8')));
    });
    socket.write(bytes);
  });
}

/** An HTTP/1.1 response read off a socket (status line, headers, body; no chunked decoding needed here). */
function parseResponse(text: string): Answer {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const bodyText = end === -1 ? '' : text.slice(end + 4);
  const [statusLine, ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body: unknown = bodyText;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // Not JSON: judged as text.
  }
  return { status, headers, body, text: bodyText };
}
