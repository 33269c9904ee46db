/** Uploads as the app makes them (`wx.uploadFile`: multipart with one file part). */
import type { UploadResponse } from '../../../contract/http';
import { request, type Answer } from './http';
import type { Target } from './target';

/** A 1×1 PNG: the smallest image the server takes. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** One upload of `bytes` as `image.png`; the answer as it came. */
export function upload(target: Target, token: string, bytes: Buffer = TINY_PNG): Promise<Answer> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'image.png');
  return request(target, 'POST', '/api/upload', { token, raw: form });
}

/** The URL an accepted upload answered with. */
export function uploadedUrl(answer: Answer): string | undefined {
  return answer.status === 200 ? (answer.body as UploadResponse).url : undefined;
}
