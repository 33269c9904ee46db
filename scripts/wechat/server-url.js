// Which chat server a build of the mini-program talks to. The build writes it into dist/config.js (gulpfile.js),
// so nobody edits miniprogram/config.ts by hand.
//
//   development  SERVER_URL from the environment, else http://<this machine's LAN address>:<PORT or 3000>,
//                so a phone on the same Wi-Fi reaches `npm start` (which binds 0.0.0.0).
//                .env is not read here: it holds the production address.
//   production   SERVER_URL from the environment or .env; it must be wss:// or https:// and name a domain,
//                the only kind of address WeChat lets a released mini-program reach.
//
// The app's SERVER_URL is the server's HTTP base (the client derives the socket address, base + /ws), so
// wss://chat.example.com and wss://chat.example.com/ws both become https://chat.example.com.
'use strict';
const net = require('node:net');
const os = require('node:os');
const { UserError, CONSOLE } = require('./errors');
const { loadSettings } = require('./settings');

const DEFAULT_PORT = 3000;

/**
 * This machine's address on the local network: the first non-internal IPv4 address (a link-local 169.254.x.x
 * one only if there is nothing else), or 127.0.0.1 when there is none.
 * @param {NodeJS.Dict<os.NetworkInterfaceInfo[]>} [interfaces] os.networkInterfaces()'s shape
 * @returns {string}
 */
function lanAddress(interfaces = os.networkInterfaces()) {
  const candidates = Object.values(interfaces)
    .flat()
    // Node 18.0–18.3 reported family as the number 4.
    .filter((info) => info && (info.family === 'IPv4' || /** @type {unknown} */ (info.family) === 4) && !info.internal)
    .map((info) => /** @type {os.NetworkInterfaceInfo} */ (info).address);
  return candidates.find((a) => !a.startsWith('169.254.')) || candidates[0] || '127.0.0.1';
}

/**
 * The server's HTTP base from a ws(s):// or http(s):// address: the scheme mapped to http(s), without a
 * trailing slash or /ws (the client appends /ws itself).
 * @param {URL} url
 * @returns {string}
 */
function toHttpBase(url) {
  const protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  const pathname = url.pathname.replace(/\/+$/, '').replace(/\/ws$/, '');
  return `${protocol}//${url.host}${pathname}`;
}

/**
 * @param {string} raw
 * @param {string} source
 * @param {string} example
 * @returns {URL}
 */
function parse(raw, source, example) {
  let url;
  try {
    url = new URL(raw.trim());
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) || !url.hostname) {
    throw new UserError(
      `SERVER_URL "${raw}" (from ${source}) is not a server address: use the chat server's base address, e.g. SERVER_URL=${example}.`,
    );
  }
  if (url.search || url.hash || url.username) {
    throw new UserError(
      `SERVER_URL "${raw}" (from ${source}) has a query, fragment or user name: give only the server's base address, e.g. SERVER_URL=${example}.`,
    );
  }
  return url;
}

/**
 * @param {{ env?: NodeJS.ProcessEnv, interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]> }} [options]
 * @returns {{ url: string, why: string }}
 */
function developmentServerUrl({ env = process.env, interfaces } = {}) {
  if (env.SERVER_URL) {
    const url = parse(env.SERVER_URL, 'the environment', 'http://192.168.1.5:3000');
    return { url: toHttpBase(url), why: 'SERVER_URL from the environment' };
  }
  const port = Number(env.PORT) > 0 && Number.isInteger(Number(env.PORT)) ? Number(env.PORT) : DEFAULT_PORT;
  const address = lanAddress(interfaces);
  const why =
    address === '127.0.0.1'
      ? 'no LAN address found, so only this machine reaches it; SERVER_URL overrides it'
      : "this machine's LAN address, for a phone on the same Wi-Fi; SERVER_URL overrides it";
  return { url: `http://${address}:${port}`, why };
}

/**
 * @param {import('./settings').Setting | undefined} setting SERVER_URL from the environment or .env
 * @returns {{ url: string, why: string }}
 */
function productionServerUrl(setting) {
  const example = 'wss://chat.example.com';
  if (!setting) {
    throw new UserError(
      `A production build needs the chat server's public address: set SERVER_URL in .env (or the environment) to its wss:// or https:// address, e.g. SERVER_URL=${example} (docs/deploy.md sets one up).`,
    );
  }
  const url = parse(setting.value, setting.source, example);
  if (url.protocol !== 'wss:' && url.protocol !== 'https:') {
    throw new UserError(
      `SERVER_URL "${setting.value}" (from ${setting.source}) is not a TLS address: a production build needs wss:// or https://, because a released mini-program may only reach https and wss domains listed in ${CONSOLE} → 服务器域名.`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) || host === 'localhost' || host.endsWith('.localhost')) {
    throw new UserError(
      `SERVER_URL "${setting.value}" (from ${setting.source}) names ${host === 'localhost' ? 'localhost' : 'an IP address'}, but WeChat's 服务器域名 list takes only domain names: use the server's domain, e.g. SERVER_URL=${example}.`,
    );
  }
  return { url: toHttpBase(url), why: `SERVER_URL from ${setting.source}` };
}

/**
 * The address a build writes into the app.
 * @param {{ production: boolean, env?: NodeJS.ProcessEnv, root?: string }} options
 * @returns {{ url: string, why: string }}
 */
function resolveServerUrl({ production, env = process.env, root }) {
  if (!production) return developmentServerUrl({ env });
  return productionServerUrl(loadSettings({ env, root }).serverUrl);
}

module.exports = { lanAddress, toHttpBase, developmentServerUrl, productionServerUrl, resolveServerUrl };
