/** The server under test: the one address the replay talks to. */

export interface Target {
  /** `http(s)://host:port`, no trailing slash. */
  readonly url: string;
  /** The socket's address: `ws(s)://host:port/ws`. */
  readonly wsUrl: string;
  readonly host: string;
  readonly port: number;
  readonly https: boolean;
}

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** The target at `raw` (an http or https URL); throws with a sentence when it is not one. */
export function targetOf(raw: string): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`"${raw}" is not a URL: give the server's address, e.g. ${DEFAULT_URL}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`"${raw}" is not an http(s) URL: give the server's address, e.g. ${DEFAULT_URL}`);
  }
  const https = url.protocol === 'https:';
  const base = url.origin;
  return {
    url: base,
    wsUrl: `${base.replace(/^http/, 'ws')}/ws`,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : https ? 443 : 80,
    https,
  };
}
