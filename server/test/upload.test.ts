/**
 * Image uploads over a real port and a real data folder: `POST /api/upload` with multipart bodies
 * as `wx.uploadFile` sends them (and as `FormData` does), content sniffing, the size limit, and
 * serving the files back from `GET /uploads/:name` without ever leaving the uploads folder.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sniffImage } from '../src/http/uploads';
import { isUploadUrl, UPLOAD_NAME } from '../src/http/upload-urls';
import { useTestServer } from './support/fixture';
import { answerToHeadersOnly, rawPost, type RawAnswer } from './support/http';
import { api, expectFailure, login, type TestServer as Server } from './support/server';
import { waitFor } from './support/wait';

/** Tiny valid images (1×1), as bytes. The JPEG was encoded with jpeg-js, the WebP is Modernizr's lossless probe. */
const IMAGES = {
  png: Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    'base64',
  ),
  gif: Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'),
  webp: Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64'),
  jpg: Buffer.from(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MB' +
      'ERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AABEIAAEAAQMBEQACEQEDEQH/xAGiAAAB' +
      'BQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYn' +
      'KCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV' +
      '1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIy' +
      'gQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SVlpeYmZqi' +
      'o6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/2gAMAwEAAhEDEQA/AMWvLPvD/9k=',
    'base64',
  ),
} as const;

const CONTENT_TYPES = { png: 'image/png', gif: 'image/gif', webp: 'image/webp', jpg: 'image/jpeg' } as const;

/** A PNG of exactly `size` bytes: the 1×1 image with junk after its end (still sniffed as PNG). */
function pngOfSize(size: number): Buffer {
  return Buffer.concat([IMAGES.png, Buffer.alloc(size - IMAGES.png.length, 0x41)]);
}

interface Answer {
  status: number;
  body: unknown;
}

/** POST /api/upload with a `FormData` body, as fetch sends it. */
async function uploadForm(
  server: Server,
  token: string | undefined,
  file: { bytes: Buffer; type: string; name: string; field?: string } | null,
  fields: Record<string, string> = {},
): Promise<Answer> {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  if (file) form.append(file.field ?? 'file', new Blob([new Uint8Array(file.bytes)], { type: file.type }), file.name);
  const response = await fetch(`${server.url}/api/upload`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/**
 * A multipart body built by hand the way wx.uploadFile writes it: `formData` fields first, then the
 * file part under the `name` option, with the temporary file name the app hands over.
 */
function wxMultipart(
  parts: Array<{ field: string; value: string } | { field: string; filename: string; type: string; bytes: Buffer }>,
): {
  body: Buffer;
  contentType: string;
} {
  const boundary = `----WeChatFormBoundary${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.field}"\r\n\r\n${part.value}\r\n`),
      );
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.field}"; filename="${part.filename}"\r\n` +
            `Content-Type: ${part.type}\r\n\r\n`,
        ),
        part.bytes,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function uploadRaw(server: Server, token: string, body: Buffer, contentType: string): Promise<Answer> {
  const response = await fetch(`${server.url}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: new Uint8Array(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A GET with the path sent exactly as written (fetch would resolve `..` before sending). */
function rawRequest(
  server: Server,
  requestPath: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: server.port, path: requestPath, method, headers });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * Sends an upload's headers (a multipart type, and `headers`) but none of its body, and waits for the
 * answer: only a refusal that does not need the body can come.
 */
function headersOnly(server: Server, headers: Record<string, string | number>): Promise<RawAnswer> {
  const { contentType } = wxMultipart([]);
  return answerToHeadersOnly(rawPost(server.port, '/api/upload', { 'content-type': contentType, ...headers }));
}

/** The files in the server's uploads folder (temporary ones included), sorted. */
function uploadsListing(server: Server): string[] {
  return fs.readdirSync(path.join(server.dataDir, 'uploads')).sort();
}

/** The stored name at the end of an answered URL. */
function nameOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function devId(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

describe('POST /api/upload and GET /uploads/:name', () => {
  const server = useTestServer();
  let token: string;

  beforeAll(async () => {
    token = (await login(server.url, devId('uploader'))).token;
  });

  it.each(Object.keys(IMAGES) as Array<keyof typeof IMAGES>)(
    'takes a %s and serves it back byte for byte with its type and caching headers',
    async (ext) => {
      const answer = await uploadForm(server, token, {
        bytes: IMAGES[ext],
        type: CONTENT_TYPES[ext],
        name: `p.${ext}`,
      });
      expect(answer.status).toBe(200);
      const { url } = answer.body as { url: string };
      expect(url).toMatch(new RegExp(`^${server.url}/uploads/[A-Za-z0-9_-]{16,64}\\.${ext}$`));
      expect(isUploadUrl(url)).toBe(true);

      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(CONTENT_TYPES[ext]);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-length')).toBe(String(IMAGES[ext].length));
      expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(Number.isNaN(Date.parse(response.headers.get('last-modified') ?? ''))).toBe(false);
      expect(Buffer.from(await response.arrayBuffer()).equals(IMAGES[ext])).toBe(true);
      // Stored under the answered name, with the same bytes.
      expect(fs.readFileSync(path.join(server.dataDir, 'uploads', nameOf(url))).equals(IMAGES[ext])).toBe(true);
    },
  );

  it('takes a body built the way wx.uploadFile sends it: formData fields around a file part of any name', async () => {
    const { body, contentType } = wxMultipart([
      { field: 'conv', value: 'dm:a:b' },
      { field: 'note', value: 'hello 你好' },
      { field: 'image', filename: 'wxfile://tmp_0a1b2c3d.png', type: 'image/png', bytes: IMAGES.png },
      { field: 'after', value: 'x' },
    ]);
    const answer = await uploadRaw(server, token, body, contentType);
    expect(answer.status).toBe(200);
    const { url } = answer.body as { url: string };
    expect(nameOf(url)).toMatch(UPLOAD_NAME);
    expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(IMAGES.png)).toBe(true);
  });

  it('never uses the client file name: a traversal in it changes nothing', async () => {
    const outside = fs.readdirSync(server.dataDir).sort();
    const answer = await uploadForm(server, token, { bytes: IMAGES.gif, type: 'image/gif', name: '../../evil.gif' });
    expect(answer.status).toBe(200);
    const name = nameOf((answer.body as { url: string }).url);
    expect(name).not.toContain('evil');
    expect(fs.readdirSync(server.dataDir).sort()).toEqual(outside);
    expect(uploadsListing(server)).toContain(name);
  });

  it('stores the first file of a form with two, and only that one', async () => {
    const before = uploadsListing(server);
    const { body, contentType } = wxMultipart([
      { field: 'file', filename: 'a.gif', type: 'image/gif', bytes: IMAGES.gif },
      { field: 'file2', filename: 'b.png', type: 'image/png', bytes: IMAGES.png },
    ]);
    const answer = await uploadRaw(server, token, body, contentType);
    expect(answer.status).toBe(200);
    expect(nameOf((answer.body as { url: string }).url)).toMatch(/\.gif$/);
    expect(uploadsListing(server).filter((name) => !before.includes(name))).toHaveLength(1);
  });

  it('decides the type by content: a text file named x.png is refused with 415, nothing kept', async () => {
    const before = uploadsListing(server);
    const answer = await uploadForm(server, token, {
      bytes: Buffer.from('just some text, not a picture\n'),
      type: 'image/png',
      name: 'x.png',
    });
    expectFailure(answer, 415, 'unsupported_type');
    expect(uploadsListing(server)).toEqual(before);
  });

  it('refuses other real formats (a PDF) and an empty file with 415', async () => {
    const before = uploadsListing(server);
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n');
    expectFailure(
      await uploadForm(server, token, { bytes: pdf, type: 'image/jpeg', name: 'a.jpg' }),
      415,
      'unsupported_type',
    );
    expectFailure(
      await uploadForm(server, token, { bytes: Buffer.alloc(0), type: 'image/png', name: 'a.png' }),
      415,
      'unsupported_type',
    );
    expect(uploadsListing(server)).toEqual(before);
  });

  it('takes an image declared as text/plain with a .txt name: sniffing wins', async () => {
    const answer = await uploadForm(server, token, { bytes: IMAGES.webp, type: 'text/plain', name: 'notes.txt' });
    expect(answer.status).toBe(200);
    const { url } = answer.body as { url: string };
    expect(url).toMatch(/\.webp$/);
    expect((await fetch(url)).headers.get('content-type')).toBe('image/webp');
  });

  it('takes an image larger than the 64 KiB JSON body limit', async () => {
    const big = pngOfSize(200 * 1024);
    const answer = await uploadForm(server, token, { bytes: big, type: 'image/png', name: 'big.png' });
    expect(answer.status).toBe(200);
    const served = Buffer.from(await (await fetch((answer.body as { url: string }).url)).arrayBuffer());
    expect(served.equals(big)).toBe(true);
  });

  it('answers 401 without a token or with a bad one, and keeps nothing', async () => {
    const before = uploadsListing(server);
    const file = { bytes: IMAGES.png, type: 'image/png', name: 'a.png' };
    expectFailure(await uploadForm(server, undefined, file), 401, 'unauthorized');
    expectFailure(await uploadForm(server, 'not.a.token', file), 401, 'unauthorized');
    expect(uploadsListing(server)).toEqual(before);
    // Refused before the body is read: the answer comes at once, and the connection closes after it.
    expect(await headersOnly(server, { 'content-length': 4096 })).toEqual({
      status: 401,
      connection: 'close',
      body: { error: { code: 'unauthorized', message: expect.any(String) } },
    });
  });

  it('answers 400 without a file part: fields only, an empty form, or JSON', async () => {
    expectFailure(await uploadForm(server, token, null, { note: 'no file here' }), 400, 'bad_request');
    const empty = wxMultipart([]);
    expectFailure(await uploadRaw(server, token, empty.body, empty.contentType), 400, 'bad_request');
    const json = await api(server.url, 'POST', '/api/upload', { token, json: { url: 'http://x/y.png' } });
    expect(json.status).toBe(400);
    expect(json.body).toEqual({ error: { code: 'bad_request', message: expect.any(String) } });
  });

  it('keeps multipart to the upload route: other routes still refuse it', async () => {
    const { body, contentType } = wxMultipart([{ field: 'nickname', value: 'x' }]);
    const response = await fetch(`${server.url}/api/profile`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: new Uint8Array(body),
    });
    expect(response.status).toBe(415);
  });

  it('answers HEAD with the headers and no body, and 304 for a matching If-None-Match', async () => {
    const answer = await uploadForm(server, token, { bytes: IMAGES.jpg, type: 'image/jpeg', name: 'a.jpg' });
    const url = new URL((answer.body as { url: string }).url);
    const head = await rawRequest(server, url.pathname, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('image/jpeg');
    expect(head.headers['content-length']).toBe(String(IMAGES.jpg.length));
    expect(head.body.length).toBe(0);

    const etag = head.headers.etag ?? '';
    const again = await rawRequest(server, url.pathname, 'GET', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const other = await rawRequest(server, url.pathname, 'GET', { 'if-none-match': '"something-else"' });
    expect(other.status).toBe(200);
    expect(other.body.equals(IMAGES.jpg)).toBe(true);
  });

  it('builds the URL from the request Host when PUBLIC_URL is unset, and refuses a Host that is no host', async () => {
    const send = (host: string) => {
      const { body, contentType } = wxMultipart([
        { field: 'file', filename: 'a.png', type: 'image/png', bytes: IMAGES.png },
      ]);
      return new Promise<Answer>((resolve, reject) => {
        const request = http.request({
          host: '127.0.0.1',
          port: server.port,
          path: '/api/upload',
          method: 'POST',
          headers: {
            host,
            authorization: `Bearer ${token}`,
            'content-type': contentType,
            'content-length': body.length,
          },
        });
        request.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
        });
        request.on('error', reject);
        request.end(body);
      });
    };
    const answer = await send('chat.local:8080');
    expect(answer.status).toBe(200);
    expect((answer.body as { url: string }).url).toMatch(
      /^http:\/\/chat\.local:8080\/uploads\/[A-Za-z0-9_-]{16,64}\.png$/,
    );

    const before = uploadsListing(server);
    expectFailure(await send('evil.example/x?y='), 400, 'bad_request');
    expect(uploadsListing(server)).toEqual(before);
  });

  it('answers 404 JSON for a well-formed name that was never stored', async () => {
    const response = await api(server.url, 'GET', '/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  it('never leaves the uploads folder: traversal, encoded slashes and absolute paths are 404', async () => {
    const secret = fs.readFileSync(path.join(server.dataDir, 'token-secret'), 'utf8').trim();
    expect(secret.length).toBeGreaterThan(8);
    // A file that exists in the folder but whose name is not a stored-file name, and a temp-like one.
    fs.writeFileSync(path.join(server.dataDir, 'uploads', 'short.png'), IMAGES.png);
    fs.writeFileSync(path.join(server.dataDir, 'uploads', '.upload-0123456789abcdef0123456789.png'), IMAGES.png);
    const attempts = [
      '/uploads/..%2Ftoken-secret',
      '/uploads/../token-secret',
      '/uploads/%2e%2e%2ftoken-secret',
      '/uploads/%2e%2e%2fchat.db',
      '/uploads/..%5Ctoken-secret',
      '/uploads/%2e%2e/token-secret',
      '/uploads/..%252Ftoken-secret',
      `/uploads/${encodeURIComponent(path.join(server.dataDir, 'token-secret'))}`,
      `/uploads/${path.join(server.dataDir, 'token-secret')}`,
      '/uploads//etc/passwd',
      '/uploads/%2Fetc%2Fpasswd',
      '/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png%00.png',
      '/uploads/AAAAAAAAAAAAAAAAAAAAAAAA.png%2F..%2F..%2Ftoken-secret',
      '/uploads/short.png',
      '/uploads/.upload-0123456789abcdef0123456789.png',
      '/uploads/',
      '/uploads/..',
    ];
    for (const attempt of attempts) {
      const response = await rawRequest(server, attempt);
      expect({ attempt, status: response.status }).toEqual({ attempt, status: 404 });
      expect(response.headers['content-type']).toMatch(/application\/json/);
      const text = response.body.toString('utf8');
      expect(text).not.toContain(secret);
      expect(JSON.parse(text)).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
  });
});

describe('the size limit', () => {
  const LIMIT = 1024;
  // Both limits: the file's first bytes decide which one it is held to.
  const server = useTestServer({ uploadMaxBytes: LIMIT, uploadAudioMaxBytes: LIMIT });
  let token: string;

  beforeAll(async () => {
    token = (await login(server.url, devId('limit'))).token;
  });

  it('takes a file of exactly the limit', async () => {
    const answer = await uploadForm(server, token, { bytes: pngOfSize(LIMIT), type: 'image/png', name: 'a.png' });
    expect(answer.status).toBe(200);
  });

  it('refuses one byte more with 413 too_large and leaves nothing in the folder, no temporary file either', async () => {
    const before = uploadsListing(server);
    const answer = await uploadForm(server, token, { bytes: pngOfSize(LIMIT + 1), type: 'image/png', name: 'a.png' });
    expectFailure(answer, 413, 'too_large');
    expect(uploadsListing(server)).toEqual(before);
  });

  it('refuses a body declared far over the limit with 413 before reading it, and closes the connection', async () => {
    // Headers only: the answer must come without the server waiting for (or reading) the body.
    const answer = await headersOnly(server, { authorization: `Bearer ${token}`, 'content-length': 300 * 1024 });
    expect(answer).toEqual({
      status: 413,
      connection: 'close',
      body: { error: { code: 'too_large', message: expect.any(String) } },
    });
  });

  it('cuts off a chunked body (no Content-Length) that runs far past the limit, keeping nothing', async () => {
    const before = uploadsListing(server);
    const { body, contentType } = wxMultipart([
      { field: 'file', filename: 'a.png', type: 'image/png', bytes: pngOfSize(1024 * 1024) },
    ]);
    const outcome = await new Promise<string>((resolve) => {
      const request = http.request({
        host: '127.0.0.1',
        port: server.port,
        path: '/api/upload',
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'transfer-encoding': 'chunked' },
      });
      request.on('response', (response) => resolve(`status ${response.statusCode}`));
      request.on('error', () => resolve('connection closed'));
      for (let offset = 0; offset < body.length; offset += 16 * 1024)
        request.write(body.subarray(offset, offset + 16 * 1024));
      request.end();
    });
    expect(outcome).toBe('connection closed');
    // The server removes its temporary file as it sees the cut, which may come just after the client does.
    await waitFor(() => uploadsListing(server).join() === before.join(), 'the temporary file to go');
  });
});

describe('PUBLIC_URL', () => {
  const PUBLIC = 'https://chat.example.com';
  const server = useTestServer({ publicUrl: PUBLIC });

  it('is the base of answered URLs, which are served at their path', async () => {
    const { token } = await login(server.url, devId('public'));
    const answer = await uploadForm(server, token, { bytes: IMAGES.png, type: 'image/png', name: 'a.png' });
    expect(answer.status).toBe(200);
    const { url } = answer.body as { url: string };
    expect(url).toMatch(/^https:\/\/chat\.example\.com\/uploads\/[A-Za-z0-9_-]{16,64}\.png$/);
    expect(isUploadUrl(url, PUBLIC)).toBe(true);
    expect(isUploadUrl(url.replace(PUBLIC, 'https://evil.example.com'), PUBLIC)).toBe(false);
    const served = await fetch(`${server.url}${new URL(url).pathname}`);
    expect(Buffer.from(await served.arrayBuffer()).equals(IMAGES.png)).toBe(true);
  });
});

describe('isUploadUrl', () => {
  const NAME = 'AbCdEfGhIjKlMnOpQrStUvWx.jpg';

  it('takes the URLs the server answers with', () => {
    expect(isUploadUrl(`http://127.0.0.1:3000/uploads/${NAME}`)).toBe(true);
    expect(isUploadUrl(`https://chat.example.com/uploads/${NAME}`)).toBe(true);
    expect(isUploadUrl(`http://[::1]:3000/uploads/${NAME}`)).toBe(true);
    expect(isUploadUrl(`https://chat.example.com/uploads/${NAME}`, 'https://chat.example.com')).toBe(true);
    expect(isUploadUrl(`https://example.com/chat/uploads/${NAME}`, 'https://example.com/chat')).toBe(true);
  });

  it('refuses other hosts when PUBLIC_URL is known', () => {
    const base = 'https://chat.example.com';
    for (const url of [
      `https://evil.example.com/uploads/${NAME}`,
      `http://chat.example.com/uploads/${NAME}`,
      `https://chat.example.com.evil.com/uploads/${NAME}`,
      `https://chat.example.com@evil.com/uploads/${NAME}`,
      `https://chat.example.com/other/uploads/${NAME}`,
    ]) {
      expect({ url, ok: isUploadUrl(url, base) }).toEqual({ url, ok: false });
    }
  });

  it('refuses junk', () => {
    for (const body of [
      '',
      'hello',
      NAME,
      `/uploads/${NAME}`,
      `//chat.example.com/uploads/${NAME}`,
      `ftp://chat.example.com/uploads/${NAME}`,
      `javascript:alert(1)//uploads/${NAME}`,
      `https://user:pw@chat.example.com/uploads/${NAME}`,
      `https://chat.example.com/uploads/${NAME}?x=1`,
      `https://chat.example.com/uploads/${NAME}#x`,
      `https://chat.example.com/uploads/../uploads/${NAME}`,
      `https://chat.example.com/uploads/x/${NAME}`,
      'https://chat.example.com/uploads/short.png',
      'https://chat.example.com/uploads/AbCdEfGhIjKlMnOpQrStUvWx.svg',
      'https://chat.example.com/uploads/AbCdEfGhIjKlMnOpQrStUvWx.png.html',
      `https://chat.example.com/uploads/${NAME} `,
      `https://chat.example.com/uploads/${NAME}\n`,
      `https://chat example.com/uploads/${NAME}`,
      `https://chat.example.com/other/${NAME}`,
    ]) {
      expect({ body, ok: isUploadUrl(body) }).toEqual({ body, ok: false });
    }
  });
});

describe('sniffImage', () => {
  it('names the four formats and nothing else', async () => {
    expect(await sniffImage(IMAGES.png)).toBe('png');
    expect(await sniffImage(IMAGES.gif)).toBe('gif');
    expect(await sniffImage(IMAGES.webp)).toBe('webp');
    expect(await sniffImage(IMAGES.jpg)).toBe('jpg');
    expect(await sniffImage(Buffer.alloc(0))).toBeUndefined();
    expect(await sniffImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(await sniffImage(Buffer.from('BM'))).toBeUndefined();
    // A truncated signature is not an image.
    expect(await sniffImage(IMAGES.png.subarray(0, 4))).toBeUndefined();
  });
});
