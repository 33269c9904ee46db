/**
 * Settings every test server gets unless a test sets its own: tests log many users in from
 * 127.0.0.1 and read /metrics. Tests about the login limit or /metrics set these explicitly.
 */

/** The bearer token of /metrics on test servers. */
export const TEST_METRICS_TOKEN = 'test-metrics-token';

/** A login budget no test reaches by accident. */
export const RELAXED_LOGIN_RATE = { perMinute: 1e9, burst: 1e9 };

/** The same, as the environment of a server process. */
export const TEST_SERVER_ENV: Readonly<Record<string, string>> = {
  LOGIN_RATE: String(RELAXED_LOGIN_RATE.perMinute),
  LOGIN_BURST: String(RELAXED_LOGIN_RATE.burst),
  METRICS_TOKEN: TEST_METRICS_TOKEN,
};
