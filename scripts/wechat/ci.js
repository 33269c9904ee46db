// The calls to miniprogram-ci (preview, upload, and compile-check's offline compile) and what their failures
// mean. miniprogram-ci talks to WeChat (servicewechat.com) with the upload key: it fetches the account's
// settings, compiles the project the way an upload does, and posts the package. Its own console chatter is kept
// for --verbose; progress is shown by a printer of ours, and every failure we can name becomes one sentence.
'use strict';
const { UserError, CONSOLE } = require('./errors');

/** miniprogram-ci's network failures (Node's, and the request library's) that mean WeChat was not reached. */
const NETWORK =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENETDOWN|EPIPE|ECONNABORTED|EPROTO|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|tunneling socket could not be established|socket hang up)\b/;
const CI_DOCS = 'https://developers.weixin.qq.com/miniprogram/dev/devtools/ci.html';

const real = { log: console.log, info: console.info, warn: console.warn, debug: console.debug, error: console.error };
/** @param {boolean} on silence console.* (miniprogram-ci's logging) unless --verbose */
function mute(on) {
  const verbose = process.argv.includes('--verbose');
  for (const k of /** @type {(keyof typeof real)[]} */ (Object.keys(real))) {
    console[k] = on && !verbose ? () => {} : real[k];
  }
}

/**
 * Runs `fn` with miniprogram-ci's console output silenced (it logs every failed request, which we explain
 * ourselves), restoring the console afterwards.
 * @template T
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function quietly(fn) {
  mute(true);
  try {
    return await fn();
  } finally {
    mute(false);
  }
}

/** @returns {typeof import('miniprogram-ci')} */
function loadCi() {
  mute(true); // it prints a line when it loads
  try {
    return require('miniprogram-ci');
  } finally {
    mute(false);
  }
}

/**
 * The project miniprogram-ci opens: a folder with project.config.json (its settings are used) and dist/.
 * @param {{ appid: string, privateKey: string, projectDir: string }} options
 */
function createProject({ appid, privateKey, projectDir }) {
  const ci = loadCi();
  mute(true); // it announces the proxy it found in the environment
  try {
    return new ci.Project({ appid, type: 'miniProgram', projectPath: projectDir, privateKey });
  } finally {
    mute(false);
  }
}

/**
 * `preview`: compiles and sends a development version; WeChat answers with a QR code that opens it on a phone.
 * @param {{ project: any, desc: string, robot: number, pagePath?: string, searchQuery?: string, qrcodeFile: string, onProgressUpdate: (p: any) => void }} options
 *   qrcodeFile: where miniprogram-ci writes the QR code as a base64 data URI (qrcode.js turns it into a PNG)
 */
async function preview({ project, desc, robot, pagePath, searchQuery, qrcodeFile, onProgressUpdate }) {
  const ci = loadCi();
  return quietly(() =>
    ci.preview({
      project,
      desc,
      robot,
      setting: { useProjectConfig: true },
      qrcodeFormat: 'base64',
      qrcodeOutputDest: qrcodeFile,
      onProgressUpdate,
      ...(pagePath ? { pagePath } : {}),
      ...(searchQuery ? { searchQuery } : {}),
    }),
  );
}

/**
 * `upload`: compiles and sends a version, which then appears in the admin console's version list (版本管理).
 * @param {{ project: any, version: string, desc: string, robot: number, onProgressUpdate: (p: any) => void }} options
 */
async function upload({ project, version, desc, robot, onProgressUpdate }) {
  const ci = loadCi();
  return quietly(() =>
    ci.upload({ project, version, desc, robot, setting: { useProjectConfig: true }, onProgressUpdate }),
  );
}

/**
 * miniprogram-ci's messages nest ("Error: Error: getaddrinfo …"): the innermost text.
 * @param {string} message
 */
function innermost(message) {
  return message
    .split('\n')[0]
    .replace(/^(\s*(Error|CodeError):\s*)+/g, '')
    .trim();
}

/**
 * Turns a failure of preview or upload into one sentence, or undefined when it is none we recognise.
 * @param {unknown} err what miniprogram-ci threw (a CodeError: message and a numeric code)
 * @param {{ action: string, appid: string }} context action: "preview" or "upload"
 * @returns {UserError | undefined}
 */
function explainCiError(err, { action, appid }) {
  const e = /** @type {{ message?: unknown, code?: unknown }} */ (err || {});
  const message = String(e.message ?? err ?? '');
  const code = typeof e.code === 'number' ? e.code : undefined;

  if (NETWORK.test(message)) {
    // miniprogram-ci takes its proxy from these (get-proxy's order), or none.
    const proxyVar = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].find((name) => process.env[name]);
    const check = proxyVar
      ? `check this machine's internet connection and the proxy ${proxyVar}=${process.env[proxyVar]}`
      : "check this machine's internet connection (and set HTTPS_PROXY if this network needs a proxy)";
    return new UserError(
      `Could not reach WeChat (servicewechat.com) to ${action}: ${innermost(message)}; ${check}, then try again.`,
    );
  }

  // WeChat answered, with an error: {"errCode":-10008,"errMsg":"invalid ip: …"} or "errCode: -1; errMsg: …".
  const json = /\{[^{}]*"errCode"[^{}]*\}/.exec(message);
  let errCode;
  let errMsg;
  if (json) {
    try {
      const body = JSON.parse(json[0]);
      errCode = body.errCode;
      errMsg = String(body.errMsg ?? '');
    } catch {
      // not JSON after all: the plain form below may still match
    }
  }
  const plain = /errCode:\s*(-?\d+);\s*errMsg:\s*(.*)$/.exec(message);
  if (errCode === undefined && plain) {
    errCode = Number(plain[1]);
    errMsg = plain[2].trim();
  }
  if (errCode !== undefined) {
    const said = `errCode ${errCode}: ${errMsg}`;
    const ip = /invalid ip:?\s*([0-9a-fA-F.:]+)/i.exec(errMsg || '');
    if (ip) {
      return new UserError(
        `WeChat refused the ${action} from this machine's IP address ${ip[1]} (${said}): add it to the IP whitelist in ${CONSOLE} → 小程序代码上传, or turn that whitelist off.`,
      );
    }
    if (/ticket|signature|private ?key|-8000\d/i.test(errMsg || '')) {
      return new UserError(
        `WeChat did not accept the upload key for app ${appid} (${said}): check that the key belongs to this app id, or generate a new one in ${CONSOLE} → 小程序代码上传 → 代码上传密钥.`,
      );
    }
    if (/appid/i.test(errMsg || '')) {
      return new UserError(
        `WeChat does not know app id ${appid} or will not let this key use it (${said}): check WX_APPID against the AppID shown in ${CONSOLE}.`,
      );
    }
    return new UserError(
      `WeChat refused the ${action} (${said}): check the app id, upload key and IP whitelist in ${CONSOLE}; the codes are explained at ${CI_DOCS}.`,
    );
  }

  if (code === 20002) {
    return new UserError(
      `The upload key could not sign the request to WeChat (${innermost(message)}): generate a new key in ${CONSOLE} → 小程序代码上传 → 代码上传密钥.`,
    );
  }
  if (code !== undefined && code >= 10000 && code < 20000) {
    return new UserError(
      `WeChat's compiler rejected the build (${innermost(message)}): run npm run compile-check for the details, fix them, then try again.`,
    );
  }
  return undefined;
}

/**
 * Shows miniprogram-ci's progress: one line per stage ("… Compile miniprogram", "✓ Compile miniprogram (2.1 s)"),
 * and on a terminal the file being compiled on a line that rewrites itself (a log gets no per-file lines).
 * @param {NodeJS.WritableStream & { isTTY?: boolean }} [out]
 */
function createProgressPrinter(out = process.stdout) {
  const tty = Boolean(out.isTTY);
  /** @type {Map<string, { message: string, started: number }>} */
  const stages = new Map();
  const files = new Set();
  let lineOpen = false;
  const clear = () => {
    if (lineOpen) out.write('\r\x1b[K');
    lineOpen = false;
  };
  /** @param {{ id?: string, message?: string, status?: string }} p */
  const onProgressUpdate = (p) => {
    const message = String(p.message || '');
    const id = String(p.id ?? '');
    const file = /^Compiling (.+)$/.exec(message)?.[1] ?? (/^[\w./@-]+\.\w+$/.test(message) ? message : undefined);
    if (file !== undefined) {
      files.add(file);
      if (tty) {
        out.write(`\r\x1b[K  compiling ${file}`);
        lineOpen = true;
      }
      return;
    }
    if (p.status === 'doing' && message && !stages.has(id)) {
      stages.set(id, { message, started: Date.now() });
      clear();
      out.write(`  … ${message}\n`);
    } else if (p.status === 'done' || p.status === 'fail') {
      const stage = stages.get(id);
      const text = stage?.message || message;
      if (!text) return;
      stages.delete(id);
      const details = [];
      if (/compile/i.test(text) && files.size > 0) details.push(`${files.size} files`);
      if (stage) details.push(`${((Date.now() - stage.started) / 1000).toFixed(1)} s`);
      clear();
      out.write(`  ${p.status === 'done' ? '✓' : '✗'} ${text}${details.length ? ` (${details.join(', ')})` : ''}\n`);
    }
  };
  return { onProgressUpdate, finish: clear };
}

module.exports = { NETWORK, createProject, preview, upload, explainCiError, createProgressPrinter, loadCi, quietly };
