import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useServer, type ServerFixture } from './fixture';

/** The subscription template test servers send (WX_SUBSCRIBE_TEMPLATE_ID). */
export const TEMPLATE_ID = 'tmpl-new-message-0001';

/**
 * WeChat's API for test servers with reminders on: code2session answers every login code with an
 * openid of its own (so the app logs in as with real WeChat), and everything else — the token and
 * `subscribe/send` — answers 404, so a reminder's send fails, off the message path.
 */
function startWeChatLogin(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    response.setHeader('content-type', 'application/json');
    if (url.pathname === '/sns/jscode2session') {
      const code = url.searchParams.get('js_code') ?? '';
      response.end(JSON.stringify({ openid: `o-${code}`, session_key: 'test-session-key' }));
      return;
    }
    response.statusCode = 404;
    response.end(JSON.stringify({ errcode: -1, errmsg: 'not here' }));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * A server with new-message reminders configured as production configures them (all of
 * `WX_APPID`, `WX_SECRET`, `WX_SUBSCRIBE_TEMPLATE_ID`, `WX_SUBSCRIBE_FIELDS`, `WX_API_BASE`),
 * WeChat's API being the stand-in above.
 */
export function useRemindersServer(options: { each?: boolean } = {}): ServerFixture {
  const env: Record<string, string> = {
    WX_APPID: 'wx-test-app',
    WX_SECRET: 'test-secret',
    WX_SUBSCRIBE_TEMPLATE_ID: TEMPLATE_ID,
    WX_SUBSCRIBE_FIELDS: JSON.stringify({ thing1: 'sender', thing2: 'text', time3: 'time' }),
  };
  let wechat: Awaited<ReturnType<typeof startWeChatLogin>> | undefined;
  beforeAll(async () => {
    wechat = await startWeChatLogin();
    env.WX_API_BASE = wechat.url;
  });
  const fixture = useServer({ ...options, env });
  afterAll(async () => {
    await wechat?.close();
  });
  return fixture;
}
