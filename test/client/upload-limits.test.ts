/**
 * The app's image sends against a real server's upload limits: a spent daily quota fails at once
 * with a clear message (never retried on its own), and too many uploads a minute (429) wait and go
 * again a bounded number of times.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Platform } from '../../miniprogram/core/platform';
import { waitFor } from '../support/app';
import { useServer } from '../support/fixture';
import { PNG } from '../support/fixtures';
import { tempDataDir } from '../support/tmp';

/** Wraps the phone's wx so that every upload it starts, and how it ended, is counted. */
function countUploads(statuses: number[]): (platform: Platform) => Platform {
  return (platform) => ({
    ...platform,
    uploadFile(options: WechatMiniprogram.UploadFileOption) {
      return platform.uploadFile({
        ...options,
        success: (result) => {
          statuses.push(result.statusCode);
          options.success?.(result);
        },
      });
    },
  });
}

function pngFile(name: string): string {
  const file = path.join(tempDataDir(), name);
  fs.writeFileSync(file, PNG);
  return file;
}

describe('an image over the day’s upload quota', () => {
  // Less than one image with its form: every upload is refused with 413 quota_exceeded.
  const fixture = useServer({ env: { UPLOAD_BYTES_PER_DAY: '100' } });

  it('shows as failed at once with a clear message, and is not uploaded again on its own', async () => {
    const statuses: number[] = [];
    const me = await fixture.phone({ platform: countUploads(statuses), uploadRetryMs: 10 });
    const peer = await fixture.phone();
    const conv = me.client.conversationWith(peer.client.stores.me.user!);
    me.client.sendImage(conv, pngFile('big-day.png'));
    await waitFor(() => me.client.stores.messages.view(conv).items[0]?.status === 'failed', 'the failure');
    expect(statuses).toEqual([413]);
    expect(me.client.stores.errors.last).toMatchObject({
      code: 'quota_exceeded',
      message: expect.stringMatching(/^图片发送失败/),
    });
    // A new connection does not upload it again either: only a tap on the bubble does.
    me.client.stop();
    me.client.start();
    await waitFor(() => me.client.stores.connection.state === 'ready', 'the reconnection');
    expect(statuses).toEqual([413]);
  });
});

describe('an image over the upload rate', () => {
  // One upload a minute: the second image of the minute is refused with 429 until the minute is over.
  const fixture = useServer({ env: { UPLOAD_RATE: '1' } });

  it('waits and uploads again (still sending), a bounded number of times, then shows as failed', async () => {
    const statuses: number[] = [];
    const me = await fixture.phone({ platform: countUploads(statuses), uploadRetryMs: 200, maxSendTries: 3 });
    const peer = await fixture.phone();
    const conv = me.client.conversationWith(peer.client.stores.me.user!);
    me.client.sendImage(conv, pngFile('first.png'));
    await waitFor(() => peer.client.stores.messages.view(conv).items.length === 1, 'the first image at the peer');

    const cid = me.client.sendImage(conv, pngFile('second.png'))!;
    const status = () => me.client.stores.messages.view(conv).items.find((item) => item.key === cid)?.status;
    await waitFor(() => statuses.length === 2, 'the refused upload');
    expect(statuses).toEqual([200, 429]);
    // Refused for the moment, not for good: still sending while it waits for the next try.
    expect(status()).toBe('sending');
    await waitFor(() => status() === 'failed', 'the tries to run out');
    // Three tries in all (maxSendTries), each refused: then it stops.
    expect(statuses).toEqual([200, 429, 429, 429]);
    expect(me.client.stores.errors.last).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/^图片发送失败/),
    });
  });
});
