// The outline preview and upload share: the credentials checked before anything is built, the build into a
// project folder of its own, miniprogram-ci's call with our progress printer and a failure explained in one
// sentence, the report, and the temporary folder removed whatever happened. Each script keeps what is its own:
// its options and checks, which ci call it makes, and what it says.
'use strict';
const fs = require('node:fs');
const { runMain } = require('./errors');
const { parseOptions } = require('./args');
const { loadSettings } = require('./settings');
const { checkAppId, readUploadKey, checkRobot } = require('./validate');
const { projectFolder, buildProject } = require('./build');
const ci = require('./ci');
const { formatSize } = require('./package-size');

/**
 * Runs a script: its command-line options parsed, then `main` with them; runMain says how it ends. Every script
 * of this outline also takes --out (the project folder to keep, see buildAndSend) and --verbose.
 * @param {'preview' | 'upload'} name the script's name, the prefix of its messages
 * @param {{ usage: string, options: Parameters<typeof parseOptions>[1] }} command an example of a command line
 *   for the messages about a mistake in one, and the script's own options
 * @param {(options: ReturnType<typeof parseOptions>) => Promise<void>} main
 */
function runScript(name, { usage, options }, main) {
  runMain(name, async () => main(parseOptions(process.argv.slice(2), { ...options, out: { type: 'string' } }, usage)));
}

/**
 * What both scripts need from the settings, checked in this order: the app id, the upload key, the robot.
 * @param {string | undefined} robotFlag the --robot argument
 */
function readCredentials(robotFlag) {
  const settings = loadSettings();
  const appid = checkAppId(settings.appid);
  const privateKey = readUploadKey(settings.key, appid, settings.configDir);
  const robot = checkRobot(robotFlag, settings.robot);
  return { settings, appid, privateKey, robot };
}

/**
 * Builds the app into a project folder (`out`, or a temporary one removed afterwards), hands it to `send`
 * with a progress printer, turns a failure miniprogram-ci reports into one sentence, then calls `report`
 * with its result while the project folder still exists.
 * @template T
 * @param {object} options
 * @param {'preview' | 'upload'} options.action names the temporary folder and the failure sentences
 * @param {string} options.appid
 * @param {string} options.privateKey
 * @param {boolean} options.production
 * @param {string | undefined} options.out the --out argument
 * @param {string} options.building printed before the build
 * @param {string} options.sending printed before the call to WeChat
 * @param {(call: { project: any, dir: string, onProgressUpdate: (p: any) => void }) => Promise<T>} options.send
 * @param {(result: T, dir: string) => void | Promise<void>} options.report
 * @returns {Promise<void>}
 */
async function buildAndSend({ action, appid, privateKey, production, out, building, sending, send, report }) {
  console.log(building);
  const project = projectFolder(out, action);
  try {
    await buildProject({ dir: project.dir, production });

    console.log(sending);
    const progress = ci.createProgressPrinter();
    let result;
    try {
      result = await send({
        project: ci.createProject({ appid, privateKey, projectDir: project.dir }),
        dir: project.dir,
        onProgressUpdate: progress.onProgressUpdate,
      });
    } catch (err) {
      throw ci.explainCiError(err, { action, appid }) || err;
    } finally {
      progress.finish();
    }

    await report(result, project.dir);
  } finally {
    if (project.temporary) fs.rmSync(project.dir, { recursive: true, force: true });
  }
}

/**
 * The main package's size as WeChat counted it on receipt, when its answer says.
 * @param {{ subPackageInfo?: { name: string, size: number }[] }} result what miniprogram-ci's preview or upload returned
 * @returns {string | undefined} e.g. "312.4 KB"
 */
function mainPackageSize(result) {
  const main = (result.subPackageInfo || []).find((p) => p.name === '__APP__');
  return main ? formatSize(main.size) : undefined;
}

module.exports = { runScript, readCredentials, buildAndSend, mainPackageSize };
