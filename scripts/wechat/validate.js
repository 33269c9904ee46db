// Checks every input of preview and upload before anything is built or sent, and turns each mistake into one
// sentence that says what is wrong and where to get the right value. Pure functions over values (the key
// check also reads the key file).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const { UserError, CONSOLE } = require('./errors');
const { ROOT } = require('./settings');

/** A mini-program's AppID: "wx" and 16 lowercase hex digits. */
const APPID = /^wx[0-9a-f]{16}$/;
/** Semantic Versioning 2.0.0 (semver.org's own expression). */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** The longest version description we send; WeChat shows it in the version list (版本管理). */
const DESC_MAX = 200;
const UPLOAD_EXAMPLE = 'npm run upload -- --version 1.2.3 --desc "what changed"';

/**
 * @typedef {import('./settings').Setting} Setting
 * @typedef {import('./settings').KeySetting} KeySetting
 */

/**
 * @param {Setting | undefined} setting
 * @returns {string} the app id
 */
function checkAppId(setting) {
  const where = `set WX_APPID in .env (or "appid" in project.private.config.json) to your mini-program's AppID, shown in ${CONSOLE}`;
  if (!setting || setting.value === 'touristappid') {
    const why = setting
      ? `${setting.origin} is the test id "touristappid", which cannot`
      : 'no app id is set, and one is needed to';
    throw new UserError(`Preview and upload need your own app id (${why} preview or upload): ${where}.`);
  }
  const value = setting.value.trim();
  if (!APPID.test(value)) {
    throw new UserError(
      `The app id "${value}" (${setting.origin}) is malformed: an AppID is "wx" followed by 16 hex digits, e.g. wx0123456789abcdef; ${where}.`,
    );
  }
  return value;
}

/**
 * Reads the upload key and checks it is a PEM RSA private key, the kind the WeChat admin console issues.
 * @param {KeySetting | undefined} setting
 * @param {string} appid
 * @param {string} [configDir] where .env and private.<appid>.key are read (the repository root by default)
 * @returns {string} the key, PEM text
 */
function readUploadKey(setting, appid, configDir = ROOT) {
  const where = `in ${CONSOLE} under 小程序代码上传 → 代码上传密钥 (and add this machine's IP address to the IP whitelist there)`;
  const download = `download the code upload key ${where}`;
  const again = `generate a new key ${where}`;
  if (!setting) {
    throw new UserError(
      `No upload key is set: ${download}, then save it as private.${appid}.key in ${configDir === ROOT ? 'the repository root' : configDir} or set WX_UPLOAD_KEY_PATH in .env to its path.`,
    );
  }
  let pem;
  let what;
  if ('pem' in setting) {
    pem = setting.pem;
    what = `The upload key in ${setting.source}`;
  } else {
    what = `The upload key file ${setting.file} (${setting.source})`;
    try {
      pem = fs.readFileSync(setting.file, 'utf8');
    } catch (err) {
      const code = /** @type {NodeJS.ErrnoException} */ (err).code;
      const problem =
        code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`;
      const fix = setting.source.startsWith('WX_UPLOAD_KEY_PATH') ? 'point WX_UPLOAD_KEY_PATH at it' : 'save it there';
      throw new UserError(`${what} ${problem}: ${download}, and ${fix}.`);
    }
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/.test(pem)) {
    throw new UserError(
      `${what} is not a PEM private key (it should begin with "-----BEGIN RSA PRIVATE KEY-----"): ${again}.`,
    );
  }
  let key;
  try {
    key = crypto.createPrivateKey(pem);
  } catch {
    throw new UserError(`${what} looks like a PEM private key but cannot be read, it may be truncated: ${again}.`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new UserError(`${what} is a ${key.asymmetricKeyType} key, not the RSA key WeChat issues: ${again}.`);
  }
  return pem;
}

/**
 * @param {string | undefined} raw the --version argument
 * @returns {string}
 */
function checkVersion(raw) {
  if (raw === undefined || raw.trim() === '') {
    throw new UserError(`Missing --version: say which version this upload is, e.g. ${UPLOAD_EXAMPLE}.`);
  }
  const value = raw.trim();
  if (SEMVER.test(value)) return value;
  const hint = /^v\d/.test(value) ? ` (without the leading "v": ${value.slice(1)})` : '';
  throw new UserError(
    `--version "${value}" is not a semantic version: use major.minor.patch like 1.2.3${hint}, e.g. ${UPLOAD_EXAMPLE}.`,
  );
}

/**
 * @param {string | undefined} raw the --desc argument
 * @returns {string}
 */
function checkDescription(raw) {
  const value = (raw ?? '').trim();
  if (value === '') {
    throw new UserError(
      `Missing --desc: describe what this version changes (WeChat shows it in the version list), e.g. ${UPLOAD_EXAMPLE}.`,
    );
  }
  const length = [...value].length;
  if (length > DESC_MAX) {
    throw new UserError(`--desc is ${length} characters long: keep the description to ${DESC_MAX} at most.`);
  }
  return value;
}

/**
 * @param {string | undefined} flag the --robot argument
 * @param {Setting | undefined} setting WX_ROBOT
 * @returns {number}
 */
function checkRobot(flag, setting) {
  const raw = flag ?? setting?.value;
  if (raw === undefined || raw === '') return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 30) {
    const from = flag !== undefined ? '--robot' : `${setting?.origin}`;
    throw new UserError(
      `${from} is "${raw}", but the CI robot is a number from 1 to 30 (each robot keeps its own preview and upload; 1 if unsure).`,
    );
  }
  return value;
}

/**
 * Checks the page a preview opens against app.json; the query may be given after "?" or with --query.
 * @param {string | undefined} page e.g. "pages/chat/chat?conv=abc"
 * @param {string | undefined} query e.g. "conv=abc"
 * @param {{ pages?: string[], subpackages?: {root: string, pages?: string[]}[], subPackages?: {root: string, pages?: string[]}[] }} appJson
 * @returns {{ pagePath?: string, searchQuery?: string }}
 */
function checkPage(page, query, appJson) {
  if (page === undefined || page === '') {
    if (query) throw new UserError('--query needs --page: say which page opens with it, e.g. --page pages/chat/chat.');
    return {};
  }
  const [rawPath, inlineQuery] = page.split('?', 2);
  const pagePath = rawPath.replace(/^\/+/, '');
  const pages = [
    ...(appJson.pages || []),
    ...[...(appJson.subpackages || []), ...(appJson.subPackages || [])].flatMap((sub) =>
      (sub.pages || []).map((p) => `${sub.root.replace(/\/+$/, '')}/${p}`),
    ),
  ];
  if (!pages.includes(pagePath)) {
    throw new UserError(`--page "${pagePath}" is not a page of this app: app.json lists ${pages.join(', ')}.`);
  }
  const searchQuery = [inlineQuery, query].filter(Boolean).join('&');
  return searchQuery ? { pagePath, searchQuery } : { pagePath };
}

module.exports = {
  APPID,
  SEMVER,
  DESC_MAX,
  checkAppId,
  readUploadKey,
  checkVersion,
  checkDescription,
  checkRobot,
  checkPage,
};
