#!/usr/bin/env node
// npm run upload: a production build, uploaded to WeChat as a new version (it then appears in the admin
// console's 版本管理, where it becomes the trial version or goes to review).
//
//   npm run upload -- --version 1.2.3 --desc "what changed" [--robot 1-30] [--out dir] [--verbose]
//
// Needs the app id, the upload key and the production server address (SERVER_URL, wss:// or https://):
// scripts/wechat/settings.js says where they are read from; .env.example lists them; docs/deploy.md walks
// through it. Compile settings come from project.config.json.
'use strict';
const fs = require('node:fs');
const { runMain } = require('./wechat/errors');
const { parseOptions } = require('./wechat/args');
const { loadSettings } = require('./wechat/settings');
const { checkAppId, readUploadKey, checkRobot, checkVersion, checkDescription } = require('./wechat/validate');
const { productionServerUrl } = require('./wechat/server-url');
const { projectFolder, buildProject } = require('./wechat/build');
const ci = require('./wechat/ci');
const { formatSize } = require('./wechat/package-size');

const USAGE = 'npm run upload -- --version 1.2.3 --desc "what changed"';

async function main() {
  const options = parseOptions(
    process.argv.slice(2),
    { version: { type: 'string' }, desc: { type: 'string' }, robot: { type: 'string' }, out: { type: 'string' } },
    USAGE,
  );

  // Everything is checked before the build, so a mistake costs a second, not a build.
  const version = checkVersion(/** @type {string | undefined} */ (options.version));
  const desc = checkDescription(/** @type {string | undefined} */ (options.desc));
  const settings = loadSettings();
  const appid = checkAppId(settings.appid);
  const privateKey = readUploadKey(settings.key, appid, settings.configDir);
  const robot = checkRobot(/** @type {string | undefined} */ (options.robot), settings.robot);
  const server = productionServerUrl(settings.serverUrl);

  console.log(`upload: building version ${version} of app ${appid} for production (server ${server.url})`);
  const project = projectFolder(/** @type {string | undefined} */ (options.out), 'upload');
  try {
    await buildProject({ dir: project.dir, production: true });

    console.log(`upload: sending version ${version} to WeChat (robot ${robot})`);
    const progress = ci.createProgressPrinter();
    let result;
    try {
      result = await ci.upload({
        project: ci.createProject({ appid, privateKey, projectDir: project.dir }),
        version,
        desc,
        robot,
        onProgressUpdate: progress.onProgressUpdate,
      });
    } catch (err) {
      throw ci.explainCiError(err, { action: 'upload', appid }) || err;
    } finally {
      progress.finish();
    }

    const main = (result.subPackageInfo || []).find((/** @type {{name: string}} */ p) => p.name === '__APP__');
    console.log(
      `upload: version ${version} is uploaded${main ? ` (main package ${formatSize(main.size)} as WeChat counts it)` : ''}; in the WeChat admin console (mp.weixin.qq.com → 管理 → 版本管理) make it the trial version (选为体验版) or submit it for review (提交审核).`,
    );
  } finally {
    if (project.temporary) fs.rmSync(project.dir, { recursive: true, force: true });
  }
}

runMain('upload', main);
