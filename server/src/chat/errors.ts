/** A refusal the client is told about as an `error` frame (or, from an HTTP route, its status). */
export class ChatError extends Error {
  constructor(
    readonly code: 'bad_frame' | 'forbidden' | 'not_found' | 'blocked' | 'rate_limited' | 'content_refused',
    message: string,
  ) {
    super(message);
  }
}
