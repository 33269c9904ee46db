// Reads what preview, upload and the production build need, and says where each value came from (so an error
// can name the place to fix it). Nothing is validated here: that is validate.js's job.
//
// Where each value is looked up, first hit wins:
//   1. the environment (WX_APPID, WX_UPLOAD_KEY or WX_UPLOAD_KEY_PATH, WX_ROBOT, SERVER_URL)
//   2. .env in the config folder (git-ignored; .env.example lists every variable)
//   3. the app id only: "appid" in project.private.config.json, then in project.config.json
//   4. the key only: private.<appid>.key in the config folder (the name the WeChat admin console downloads)
// The config folder is the repository root, or WX_CONFIG_DIR (e.g. secrets mounted on a CI machine).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { UserError } = require('./errors');

const ROOT = path.resolve(__dirname, '../..');

/**
 * A value and where it came from: source is "the environment", ".env" or a file name; origin names the
 * variable too, for messages, e.g. "WX_APPID in .env" or '"appid" in project.private.config.json'.
 * @typedef {{ value: string, source: string, origin: string }} Setting
 */
/** @typedef {{ pem: string, source: string } | { file: string, source: string }} KeySetting */
/**
 * @typedef {object} Settings
 * @property {string} configDir the folder .env, project.private.config.json and private.*.key are read from
 * @property {Record<string, any>} projectConfig project.config.json (committed)
 * @property {Setting | undefined} appid
 * @property {KeySetting | undefined} key
 * @property {Setting | undefined} robot
 * @property {Setting | undefined} serverUrl the production server's address (SERVER_URL)
 */

/**
 * Parses a .env file: KEY=value lines, `#` comments, an optional `export `, values in single quotes (taken
 * literally) or double quotes (where \n is a newline, so a PEM key fits on one line).
 * @param {string} text
 * @returns {Record<string, string>}
 */
function parseDotEnv(text) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length > 1 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    } else {
      value = value.replace(/\s+#.*$/, '').trim(); // an unquoted value ends at a comment
    }
    out[match[1]] = value;
  }
  return out;
}

/**
 * @param {string} file
 * @returns {Record<string, string>}
 */
function readDotEnv(file) {
  try {
    return parseDotEnv(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * A JSON file, or {} when it does not exist.
 * @param {string} file
 * @param {{ strict?: boolean }} [options] strict (the default): a file that is not valid JSON is a UserError;
 *   otherwise it reads as {} too
 * @returns {Record<string, any>}
 */
function readJson(file, { strict = true } = {}) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text);
  } catch {
    if (!strict) return {};
    throw new UserError(`${file} is not valid JSON: fix it, or delete it if you do not need it.`);
  }
}

/**
 * The app id WeChat DevTools' project files give: "appid" in project.private.config.json (DevTools'
 * per-developer override, git-ignored) wins over the one in the committed project.config.json.
 * @param {Record<string, any>} privateConfig project.private.config.json
 * @param {Record<string, any>} projectConfig project.config.json
 * @returns {Setting | undefined}
 */
function projectAppId(privateConfig, projectConfig) {
  for (const [config, file] of [
    [privateConfig, 'project.private.config.json'],
    [projectConfig, 'project.config.json'],
  ]) {
    if (config.appid) return { value: String(config.appid), source: file, origin: `"appid" in ${file}` };
  }
  return undefined;
}

/**
 * The first non-empty value of `name`: the environment, then .env.
 * @param {string} name
 * @param {NodeJS.ProcessEnv} env
 * @param {Record<string, string>} dotenv
 * @returns {Setting | undefined}
 */
function lookup(name, env, dotenv) {
  if (env[name]) return { value: env[name], source: 'the environment', origin: `${name} in the environment` };
  if (dotenv[name]) return { value: dotenv[name], source: '.env', origin: `${name} in .env` };
  return undefined;
}

/**
 * @param {{ env?: NodeJS.ProcessEnv, root?: string }} [options]
 * @returns {Settings}
 */
function loadSettings({ env = process.env, root = ROOT } = {}) {
  const configDir = path.resolve(root, env.WX_CONFIG_DIR || '.');
  const dotenv = readDotEnv(path.join(configDir, '.env'));
  const projectConfig = readJson(path.join(root, 'project.config.json'));
  const privateConfig = readJson(path.join(configDir, 'project.private.config.json'));

  const appid = lookup('WX_APPID', env, dotenv) || projectAppId(privateConfig, projectConfig);

  /** @type {KeySetting | undefined} */
  let key;
  for (const [values, where] of /** @type {const} */ ([
    [env, 'the environment'],
    [dotenv, '.env'],
  ])) {
    if (values.WX_UPLOAD_KEY) {
      key = { pem: values.WX_UPLOAD_KEY.replace(/\\n/g, '\n'), source: `WX_UPLOAD_KEY in ${where}` };
    } else if (values.WX_UPLOAD_KEY_PATH) {
      key = {
        file: path.resolve(configDir, values.WX_UPLOAD_KEY_PATH),
        source: `WX_UPLOAD_KEY_PATH in ${where}`,
      };
    }
    if (key) break;
  }
  if (!key && appid && /^wx[0-9a-f]{16}$/.test(appid.value)) {
    const file = path.join(configDir, `private.${appid.value}.key`);
    if (fs.existsSync(file)) key = { file, source: `the downloaded key file` };
  }

  return {
    configDir,
    projectConfig,
    appid,
    key,
    robot: lookup('WX_ROBOT', env, dotenv),
    serverUrl: lookup('SERVER_URL', env, dotenv),
  };
}

module.exports = { ROOT, parseDotEnv, readDotEnv, readJson, projectAppId, loadSettings };
