import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpErrorBody } from '../../../contract/http';
import type { Metrics } from '../metrics';

/**
 * Every HTTP failure answers `{error:{code,message}}` (docs/protocol.md, "HTTP errors"): ours,
 * Fastify's own (bad URL encoding, broken JSON, wrong content type, body too large), and the
 * ones Node's HTTP parser answers before Fastify sees a request (a garbage request line).
 */

/** An HTTP failure answered as `{error:{code,message}}` with its status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Our code for a status Fastify (or a plugin) chose. */
function codeFor(status: number): string {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 408:
      return 'too_slow';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'bad_request';
  }
}

function body(code: string, message: string): HttpErrorBody {
  return { error: { code, message } };
}

/**
 * The protections helmet adds (server/src/http/security.ts), for the answers given before
 * Fastify's hooks run: framework errors and answers to bytes Node's parser refused.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const RAW_HEADERS = [
  'Content-Type: application/json; charset=utf-8',
  ...Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}`),
  'Connection: close',
];

/** The route-level error handler, the 404 handler and Fastify's framework errors, in our shape. */
export function installErrorHandlers(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      metrics.error(error.code);
      return reply.code(error.statusCode).send(body(error.code, error.message));
    }
    if (error.validation) {
      metrics.error('bad_request');
      return reply.code(400).send(body('bad_request', error.message));
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    const code = codeFor(status);
    metrics.error(code);
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send(body('internal', 'internal error'));
    }
    return reply.code(status).send(body(code, error.message));
  });
  app.setNotFoundHandler((_request, reply) => {
    metrics.error('not_found');
    reply.code(404).send(body('not_found', 'no such route'));
  });
}

/**
 * Fastify's `frameworkErrors`: failures found before routing (a URL that is not valid percent
 * encoding, a bad constraint), which Fastify would otherwise answer in its own shape.
 */
export function frameworkErrors(metrics: Metrics) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
    const code = codeFor(status);
    metrics.error(code);
    const message = error.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid percent encoding' : error.message;
    void reply.code(status).headers(SECURITY_HEADERS).send(body(code, message));
  };
}

/**
 * Fastify's `clientErrorHandler`: the HTTP parser refused the bytes (a garbage request line, a
 * header too large) or the headers did not arrive in time. Answered in our shape, then closed.
 */
export function clientErrorHandler(metrics: Metrics) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    // The peer went away: nobody to answer.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let status = 400;
    let message = 'malformed HTTP request';
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      message = 'request headers too large';
    } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      message = 'the request did not arrive in time';
    }
    const code = status === 408 ? 'too_slow' : 'bad_request';
    metrics.error(code);
    const text = JSON.stringify(body(code, message));
    const reason =
      status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    const answer = [`HTTP/1.1 ${status} ${reason}`, ...RAW_HEADERS, `Content-Length: ${Buffer.byteLength(text)}`];
    // Closed once written, whether or not the peer ever closes its side.
    socket.end([...answer, '', text].join('\r\n'), () => socket.destroy());
  };
}
