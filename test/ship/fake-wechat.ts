import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './support';

/** What a request to the fake WeChat asked for. */
export interface SeenRequest {
  path: string;
  query: URLSearchParams;
}

/** The fake's answer to one CI call: a body for a path ("/wxa/ci/upload"), or undefined for the default. */
export type Answer = (path: string) => object | undefined;

export interface FakeWeChat {
  /** Environment for a script under test: its requests go through the fake, which it trusts. */
  env: { HTTPS_PROXY: string; NODE_EXTRA_CA_CERTS: string };
  seen: SeenRequest[];
  answer: Answer;
  close(): Promise<void>;
}

/** Whether openssl is here to make the fake's certificate (Node can make keys, not certificates). */
export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * servicewechat.com, as far as miniprogram-ci's preview and upload use it, on this machine: an HTTPS server
 * with a certificate made for that name, behind an HTTP proxy that tunnels every CONNECT to it. A script run
 * with `env` (HTTPS_PROXY, which miniprogram-ci honours, and NODE_EXTRA_CA_CERTS, so it trusts the
 * certificate) talks to the fake without knowing. The calls and answers are the ones miniprogram-ci 2.x makes
 * and expects (node_modules/miniprogram-ci/dist/utils/sign.js, ci/projectattr.js, ci/upload.js).
 */
export async function startFakeWeChat(qrcodeJpeg: Buffer): Promise<FakeWeChat> {
  const dir = tempDir('fake-wechat');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=servicewechat.com',
      '-addext', 'subjectAltName=DNS:servicewechat.com', '-keyout', key, '-out', cert,
    ], // prettier-ignore
    { stdio: 'ignore' },
  );

  const seen: SeenRequest[] = [];
  const fake: FakeWeChat = {
    env: { HTTPS_PROXY: '', NODE_EXTRA_CA_CERTS: cert },
    seen,
    answer: () => undefined,
    close: async () => {},
  };
  const defaults: Record<string, object> = {
    '/wxa/ci/getrandstr': { errCode: 0, data: { randomString: 'fake-random' } },
    // The account's limits; these are miniprogram-ci's own defaults (its DefaultProjectAttr).
    '/wxa/ci/getattr': {
      errCode: 0,
      data: {
        platform: false,
        appType: 0,
        isSandbox: false,
        released: false,
        setting: {
          MaxCodeSize: 2,
          MaxSubpackageSubCodeSize: 2,
          MaxSubpackageFullCodeSize: 12,
          MaxSubPackageLimit: 100,
        },
      },
    },
    '/wxa/ci/testSourceURL': {
      errCode: 0,
      body: {
        qrcode_img: qrcodeJpeg.toString('base64'),
        subpackage_info: [
          { name: '__FULL__', size: 123456 },
          { name: '__APP__', size: 123456 },
        ],
      },
    },
    '/wxa/ci/upload': {
      errCode: 0,
      body: { subpackage_info: [{ name: '__APP__', size: 123456 }] },
    },
  };

  const api = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://servicewechat.com');
      seen.push({ path: url.pathname, query: url.searchParams });
      const body = fake.answer(url.pathname) ?? defaults[url.pathname] ?? { errCode: -1, errMsg: 'not faked' };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const apiPort = (api.address() as net.AddressInfo).port;

  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (_req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const upstream = net.connect(apiPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? upstream : client).destroy());
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  fake.env.HTTPS_PROXY = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;

  fake.close = async () => {
    for (const s of sockets) s.destroy();
    api.closeAllConnections();
    await Promise.all([new Promise((resolve) => proxy.close(resolve)), new Promise((resolve) => api.close(resolve))]);
  };
  return fake;
}
