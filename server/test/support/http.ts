/**
 * Raw HTTP for the tests that need what `fetch` hides: a request whose body is sent slowly or not
 * at all, and the `Connection` header of its answer.
 */
import http from 'node:http';

/** The answer to a raw request: its status, its `Connection` header and its body parsed as JSON. */
export interface RawAnswer {
  status: number;
  connection?: string;
  body: unknown;
}

/** A `POST` to the server on `port` at `path` with `headers`; nothing is sent until the caller writes or flushes. */
export function rawPost(port: number, path: string, headers: http.OutgoingHttpHeaders): http.ClientRequest {
  return http.request({ host: '127.0.0.1', port, path, method: 'POST', headers });
}

/**
 * The answer to `request` once its body has all come; rejects on a request error or a body that is
 * not JSON. The request is left as it is (the caller decides whether to destroy it).
 */
export function rawAnswer(request: http.ClientRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({
            status: response.statusCode ?? 0,
            connection: response.headers.connection,
            body: JSON.parse(text),
          });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    request.on('error', reject);
  });
}

/**
 * Sends `request`'s headers and none of its body, and waits for the answer: only a refusal that does
 * not need the body can come. The request is destroyed after.
 */
export async function answerToHeadersOnly(request: http.ClientRequest): Promise<RawAnswer> {
  const answer = rawAnswer(request);
  request.flushHeaders();
  try {
    return await answer;
  } finally {
    request.destroy();
  }
}
