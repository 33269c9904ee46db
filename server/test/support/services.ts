/**
 * The external services some suites need: PostgreSQL (`DATABASE_URL`) and Redis (`REDIS_URL`).
 * `.ci/run` sets both; a developer without them still gets a green run, with a loud notice of
 * what it left out.
 */
import crypto from 'node:crypto';
import pg from 'pg';

export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const REDIS_URL = process.env.REDIS_URL || undefined;

/**
 * Says, in a box that stands out in jest's output, that a suite did not run and why. Written
 * straight to stderr: jest does not show the console output of a file whose tests all skip.
 */
export function warnSkipped(suite: string, missing: string[]): void {
  const lines = [
    `SKIPPED: ${suite}`,
    `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set.`,
    'Run it with e.g. DATABASE_URL=postgres://root@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379',
    '(.ci/run sets both and starts the services).',
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const bar = '!'.repeat(width + 4);
  process.stderr.write([bar, ...lines.map((line) => `! ${line.padEnd(width)} !`), bar, ''].join('\n'));
}

/** A schema name of its own for one test, so runs (and tests) never see each other's rows. */
export function newSchemaName(label: string): string {
  return `t_${label}_${crypto.randomBytes(6).toString('hex')}`;
}

/** A Redis key prefix of its own for one test. */
export function newRedisPrefix(label: string): string {
  return `test:${label}:${crypto.randomBytes(6).toString('hex')}:`;
}

/** Drops a test's schema with everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
