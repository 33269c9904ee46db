/** A refusal the client is told about as an `error` frame (or, from an HTTP route, its status). */
export class ChatError extends Error {
  constructor(
    // 'blocked': issue #19's placeholder hook (server/src/http/safety-routes.ts).
    readonly code: 'bad_frame' | 'forbidden' | 'not_found' | 'blocked',
    message: string,
  ) {
    super(message);
  }
}
