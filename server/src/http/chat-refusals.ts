import { ChatError } from '../chat/errors';
import { HttpError } from './errors';

/** The domain's refusal codes as HTTP answers (docs/protocol.md, the error table). */
const STATUS: Record<ChatError['code'], { status: number; code: string }> = {
  bad_frame: { status: 400, code: 'bad_request' },
  forbidden: { status: 403, code: 'forbidden' },
  not_found: { status: 404, code: 'not_found' },
  blocked: { status: 403, code: 'blocked' },
  rate_limited: { status: 429, code: 'rate_limited' },
  content_refused: { status: 422, code: 'content_refused' },
};

/** Runs a domain call for an HTTP route: its refusals become HTTP errors; anything else goes on as it is. */
export async function asHttp<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ChatError)) throw error;
    const { status, code } = STATUS[error.code];
    throw new HttpError(status, code, error.message);
  }
}
