// `npm run attack` (scripts/attack/): the operators' replay of issue 14's attacks. Its command line, its
// output, and its verdicts: cheap rows run through the tool's own code against a real server on a free
// port, and each verdict must be the one issue 14 asks of that server.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../../server/test/support/server';
import { parseArgs } from '../../scripts/attack/cli';
import { LOGIN_LIMITED, type RowResult, type Verdict } from '../../scripts/attack/kit/outcome';
import { targetOf, type Target } from '../../scripts/attack/kit/target';
import { ROWS } from '../../scripts/attack/rows';
import { formatLine, replayRow, summary } from '../../scripts/attack/runner';
import { ROOT } from './support';

const OPTIONS = { slow: false, idleWaitS: 45, loginBurst: 20 };

function rowOf(n: number) {
  const row = ROWS.find((candidate) => candidate.row === n);
  if (!row) throw new Error(`no row ${n}`);
  return row;
}

/** Runs `npm run attack`'s command (without npm) and collects its output. */
function attack(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', './bench/register.js', 'scripts/attack/main.ts', ...args],
      { cwd: ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `row N  name  VERDICT  detail`, the name and the verdict padded so that the columns line up. */
const LINE = /^row \d{1,2} {1,2} .{32} {2}(HELD {5}|FAILED {3}|SKIPPED {2})\S.*$/;

describe('the command line', () => {
  it('defaults to 127.0.0.1:3000, every row, the quick replay', () => {
    expect(parseArgs([])).toEqual({
      url: 'http://127.0.0.1:3000',
      help: false,
      options: { slow: false, idleWaitS: 45, loginBurst: 20 },
    });
  });

  it('takes a URL, --only, --idle-wait (which implies --slow) and --login-burst', () => {
    expect(
      parseArgs(['http://127.0.0.1:4000', '--only', '1, 5,5', '--idle-wait', '40', '--login-burst', '400']),
    ).toEqual({
      url: 'http://127.0.0.1:4000',
      only: [1, 5],
      help: false,
      options: { slow: true, idleWaitS: 40, loginBurst: 400 },
    });
  });

  it('refuses what it does not know, in a sentence', () => {
    expect(() => parseArgs(['--only', '17'])).toThrow(/--only needs row numbers from 1 to 16/);
    expect(() => parseArgs(['--idle-wait', 'soon'])).toThrow(/--idle-wait needs a positive whole number/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
    expect(() => targetOf('ftp://example.com')).toThrow(/not an http\(s\) URL/);
  });

  it('has a module for every row of the table, 1 to 16, row 6 (which spends the login budget) last', () => {
    expect(ROWS.map((row) => row.row).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(ROWS[ROWS.length - 1].row).toBe(6);
  });

  it('prints one line per row: row N  name  VERDICT  detail', () => {
    const result: RowResult = { row: 5, name: 'many sockets with one token', verdict: 'HELD', detail: 'x', ms: 1 };
    expect(formatLine(result)).toMatch(LINE);
    expect(formatLine({ ...result, row: 13, verdict: 'SKIPPED' })).toMatch(LINE);
  });

  it('says when the target is not running, and exits 2', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await attack([`http://127.0.0.1:${port}`, '--only', '13']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not answering .* start the server first/);
  });
});

describe('a target whose login limit is spent', () => {
  // A stand-in for a server started with the default LOGIN_RATE after its budget is spent: every login
  // answers 429 as issue 14 specifies it. (The server in this tree has no login limit to spend.)
  let spent: http.Server;
  let target: Target;
  beforeAll(async () => {
    spent = http.createServer((request, response) => {
      if (request.url === '/healthz') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      request.resume();
      response
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '6' })
        .end(JSON.stringify({ error: { code: 'rate_limited', message: 'too many logins' } }));
    });
    await new Promise<void>((resolve) => spent.listen(0, '127.0.0.1', resolve));
    target = targetOf(`http://127.0.0.1:${(spent.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise((resolve) => spent.close(resolve)));

  it('skips the rows that need accounts, telling the operator to raise LOGIN_RATE / LOGIN_BURST', async () => {
    for (const n of [1, 5, 8]) {
      const result = await replayRow(rowOf(n), target, OPTIONS);
      expect(result).toMatchObject({ row: n, verdict: 'SKIPPED', detail: LOGIN_LIMITED });
    }
    expect(LOGIN_LIMITED).toMatch(/LOGIN_RATE and LOGIN_BURST raised/);
    const skipped = await replayRow(rowOf(5), target, OPTIONS);
    expect(summary([skipped])).toMatch(/restart the target with e\.g\. LOGIN_RATE=600 LOGIN_BURST=400/);
  });

  it('judges row 6 by the 429: held, 0 logins taken', async () => {
    const result = await replayRow(rowOf(6), target, OPTIONS);
    expect(result.verdict).toBe('HELD');
    expect(result.detail).toMatch(/0 taken, then 429 rate_limited, Retry-After: 6/);
  });

  it('skips row 11 unless --slow', async () => {
    const result = await replayRow(rowOf(11), target, OPTIONS);
    expect(result.verdict).toBe('SKIPPED');
    expect(result.detail).toMatch(/--slow/);
  });
});

type Expectation = { verdict: Verdict; detail: RegExp };

/**
 * What the server must do (issue 14's rules, with the test server's settings: it sets a metrics
 * token, and keeps MAX_CONNECTIONS_PER_USER at its default of 10).
 */
const EXPECTED: Record<number, Expectation> = {
  5: { verdict: 'HELD', detail: /12 opened, 10 still open; 2 closed with 4004; the oldest closed/ },
  8: { verdict: 'HELD', detail: /the reversed id: refused bad_frame/ },
  9: { verdict: 'HELD', detail: /8000 units: refused bad_frame; 4000 units: stored/ },
  12: { verdict: 'HELD', detail: /answered 400 bad_request/ },
  13: { verdict: 'HELD', detail: /no credentials: 401; a wrong token: 401/ },
  16: { verdict: 'HELD', detail: /CSP, framing and nosniff on \/healthz, \/api\/me, \/no-such-route/ },
};

describe('cheap rows against a real server', () => {
  let server: TestServer;
  let target: Target;
  beforeAll(async () => {
    // The test server relaxes every per-user limit; row 5 judges the default connection limit.
    server = await startTestServer({ maxConnectionsPerUser: 10 });
    target = targetOf(server.url);
  });
  afterAll(() => server.stop());

  for (const [n, expected] of Object.entries(EXPECTED)) {
    it(`row ${n}: ${expected.verdict}, with what the server did`, async () => {
      const result = await replayRow(rowOf(Number(n)), target, OPTIONS);
      expect(result).toMatchObject({ row: Number(n), verdict: expected.verdict });
      expect(result.detail).toMatch(expected.detail);
      // Every row checks that a normal chat still works while it attacks.
      expect(result.detail).toMatch(/chat still works/);
    });
  }

  it('npm run attack prints the verdicts, and exits 1 when a row FAILED (0 when all held)', async () => {
    const result = await attack([server.url, '--only', '13,16']);
    const lines = result.stdout.trim().split('\n');
    const verdict = 'HELD';
    expect(lines[0]).toBe(`Replaying 2 attacks against ${server.url}`);
    expect(lines.slice(1, 3)).toEqual([expect.stringMatching(LINE), expect.stringMatching(LINE)]);
    expect(lines[1]).toMatch(new RegExp(`^row 13 +metrics without credentials +${verdict} `));
    expect(lines[2]).toMatch(new RegExp(`^row 16 +security headers +${verdict} `));
    expect(lines[3]).toBe('2 held, 0 failed, 0 skipped');
    expect(result.code).toBe(0);
  });
});
