// The build step of preview, upload and compile-check --production: `gulp build` (with --production for a
// release) into a project folder of its own, <project>/dist plus a copy of project.config.json, which is all
// miniprogram-ci needs to open. The dist/ that WeChat DevTools runs is left alone: an upload does not turn your
// DevTools app into the production one. The folder is temporary unless --out names one.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { UserError } = require('./errors');
const { ROOT } = require('./settings');

/**
 * @param {string | undefined} out a folder to keep the project in, or undefined for a temporary one
 * @param {string} label e.g. "preview", part of the temporary folder's name
 * @returns {{ dir: string, temporary: boolean }}
 */
function projectFolder(out, label) {
  if (out) {
    const dir = path.resolve(out);
    fs.mkdirSync(dir, { recursive: true });
    return { dir, temporary: false };
  }
  return { dir: fs.mkdtempSync(path.join(os.tmpdir(), `wechat-chat-${label}-`)), temporary: true };
}

/**
 * Builds the mini-program into `<dir>/dist` (the build prints its steps, the server address and the package
 * size) and copies project.config.json beside it.
 * @param {{ dir: string, production: boolean, env?: NodeJS.ProcessEnv, quiet?: boolean }} options
 *   quiet: the build's messages are kept rather than printed, and a failure carries them as its `log`
 *   (compile-check shows them only when the build fails)
 * @returns {Promise<void>}
 */
async function buildProject({ dir, production, env = process.env, quiet = false }) {
  const gulp = path.join(path.dirname(require.resolve('gulp')), 'bin', 'gulp.js'); // not in gulp's exports
  const args = [gulp, 'build', '--dest', path.join(dir, 'dist'), ...(production ? ['--production'] : [])];
  const kept = { stdout: '', stderr: '' };
  const status = await new Promise((resolve, reject) => {
    const output = quiet ? 'pipe' : 'inherit';
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', output, output] });
    child.stdout?.setEncoding('utf8').on('data', (/** @type {string} */ text) => (kept.stdout += text));
    child.stderr?.setEncoding('utf8').on('data', (/** @type {string} */ text) => (kept.stderr += text));
    child.once('error', reject);
    // 'close', not 'exit': the kept output is complete only once the pipes are.
    child.once('close', (code, signal) => resolve(signal ? 1 : code));
  });
  if (status !== 0) {
    const err = new UserError(
      `The ${production ? 'production' : 'development'} build failed (its messages are above): fix what it reports, then run this again.`,
    );
    throw quiet ? Object.assign(err, { log: `${kept.stdout}${kept.stderr}` }) : err;
  }
  fs.copyFileSync(path.join(ROOT, 'project.config.json'), path.join(dir, 'project.config.json'));
}

module.exports = { projectFolder, buildProject };
