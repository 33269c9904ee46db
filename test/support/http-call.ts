import http from 'node:http';

/** An HTTP call's answer: its status (0 when the server could not be reached) and its JSON body. */
export interface HttpAnswer {
  status: number;
  body: unknown;
}

/**
 * One JSON call at the server on `port` (the app project's jest environment has no `fetch`); never
 * rejects: a refused or cut connection, or no answer within `timeoutMs`, is status 0.
 */
export function httpCall(
  port: number,
  method: string,
  path: string,
  options: { token?: string; body?: object; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: http.OutgoingHttpHeaders = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve) => {
    const request = http.request({ host: '127.0.0.1', port, path, method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON (a 204's empty body): kept as text.
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
      response.on('error', () => resolve({ status: 0, body: null }));
    });
    request.setTimeout(options.timeoutMs ?? 5000, () => request.destroy());
    request.on('error', () => resolve({ status: 0, body: null }));
    request.end(payload);
  });
}
