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
const { checkVersion, checkDescription } = require('./wechat/validate');
const { productionServerUrl } = require('./wechat/server-url');
const { runScript, readCredentials, buildAndSend, mainPackageSize } = require('./wechat/send');
const ci = require('./wechat/ci');

const COMMAND = {
  usage: 'npm run upload -- --version 1.2.3 --desc "what changed"',
  options: { version: { type: 'string' }, desc: { type: 'string' }, robot: { type: 'string' } },
};

/** @param {Record<string, string | boolean | undefined>} options */
async function main(options) {
  // Everything is checked before the build, so a mistake costs a second, not a build.
  const version = checkVersion(/** @type {string | undefined} */ (options.version));
  const desc = checkDescription(/** @type {string | undefined} */ (options.desc));
  const { settings, appid, privateKey, robot } = readCredentials(/** @type {string | undefined} */ (options.robot));
  const server = productionServerUrl(settings.serverUrl);

  await buildAndSend({
    action: 'upload',
    appid,
    privateKey,
    production: true,
    out: /** @type {string | undefined} */ (options.out),
    building: `upload: building version ${version} of app ${appid} for production (server ${server.url})`,
    sending: `upload: sending version ${version} to WeChat (robot ${robot})`,
    send: ({ project, onProgressUpdate }) => ci.upload({ project, version, desc, robot, onProgressUpdate }),
    report: (result) => {
      const size = mainPackageSize(result);
      console.log(
        `upload: version ${version} is uploaded${size ? ` (main package ${size} as WeChat counts it)` : ''}; in the WeChat admin console (mp.weixin.qq.com → 管理 → 版本管理) make it the trial version (选为体验版) or submit it for review (提交审核).`,
      );
    },
  });
}

runScript('upload', COMMAND, main);
