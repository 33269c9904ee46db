#!/usr/bin/env node
// npm run preview: build the mini-program, send it to WeChat as a preview, and show the QR code that opens it
// on a phone (drawn in the terminal, and saved as tmp/preview-qrcode.png).
//
//   npm run preview [-- --page pages/chat/chat?conv=… ] [--query a=1&b=2] [--production] [--desc text]
//                   [--robot 1-30] [--qrcode file.png] [--out dir] [--verbose]
//
// A development build (the app talks to this machine's LAN address, so run `npm start` and keep the phone on
// the same Wi-Fi) unless --production. Needs the app id and the upload key (scripts/wechat/settings.js says
// where they are read from; .env.example lists them). docs/deploy.md walks through it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { runMain } = require('./wechat/errors');
const { parseOptions } = require('./wechat/args');
const { ROOT, loadSettings } = require('./wechat/settings');
const { checkAppId, readUploadKey, checkRobot, checkPage } = require('./wechat/validate');
const { developmentServerUrl, productionServerUrl } = require('./wechat/server-url');
const { projectFolder, buildProject } = require('./wechat/build');
const ci = require('./wechat/ci');
const { saveQrCode } = require('./wechat/qrcode');
const { formatSize } = require('./wechat/package-size');

const USAGE = 'npm run preview -- --page pages/chat/chat --query conv=abc';

async function main() {
  const options = parseOptions(
    process.argv.slice(2),
    {
      page: { type: 'string' },
      query: { type: 'string' },
      desc: { type: 'string' },
      robot: { type: 'string' },
      production: { type: 'boolean' },
      qrcode: { type: 'string' },
      out: { type: 'string' },
    },
    USAGE,
  );
  const production = options.production === true;

  // Everything is checked before the build, so a mistake costs a second, not a build.
  const settings = loadSettings();
  const appid = checkAppId(settings.appid);
  const privateKey = readUploadKey(settings.key, appid, settings.configDir);
  const robot = checkRobot(/** @type {string | undefined} */ (options.robot), settings.robot);
  const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'miniprogram/app.json'), 'utf8'));
  const { pagePath, searchQuery } = checkPage(
    /** @type {string | undefined} */ (options.page),
    /** @type {string | undefined} */ (options.query),
    appJson,
  );
  const server = production ? productionServerUrl(settings.serverUrl) : developmentServerUrl();
  const qrcodeFile = path.resolve(ROOT, /** @type {string | undefined} */ (options.qrcode) || 'tmp/preview-qrcode.png');
  const desc =
    /** @type {string | undefined} */ (options.desc) ||
    `preview: ${production ? 'production' : 'development'} build, server ${server.url}`;

  console.log(
    `preview: building for app ${appid} (${production ? 'production' : 'development'}, server ${server.url})`,
  );
  const project = projectFolder(/** @type {string | undefined} */ (options.out), 'preview');
  try {
    await buildProject({ dir: project.dir, production });

    console.log(`preview: sending it to WeChat (robot ${robot})`);
    const progress = ci.createProgressPrinter();
    const base64File = path.join(project.dir, 'qrcode.base64.txt');
    let result;
    try {
      result = await ci.preview({
        project: ci.createProject({ appid, privateKey, projectDir: project.dir }),
        desc,
        robot,
        pagePath,
        searchQuery,
        qrcodeFile: base64File,
        onProgressUpdate: progress.onProgressUpdate,
      });
    } catch (err) {
      throw ci.explainCiError(err, { action: 'preview', appid }) || err;
    } finally {
      progress.finish();
    }

    const qr = await saveQrCode(fs.readFileSync(base64File, 'utf8'), qrcodeFile);
    if (qr.terminal) console.log(`\n${qr.terminal}\n`);
    const main = (result.subPackageInfo || []).find((/** @type {{name: string}} */ p) => p.name === '__APP__');
    const opens = pagePath ? `opens ${pagePath}${searchQuery ? `?${searchQuery}` : ''}` : 'opens the home page';
    console.log(
      `preview: ready${main ? `, main package ${formatSize(main.size)} as WeChat counts it` : ''}; scan the QR code with WeChat on your phone (it ${opens}; saved as ${shown(qr.file)}).`,
    );
    if (!production) {
      console.log(
        `preview: the app talks to ${server.url}: run npm start here, keep the phone on the same Wi-Fi, and turn on 开发调试 in the preview's ··· menu (development addresses are not in the app's domain list).`,
      );
    }
  } finally {
    if (project.temporary) fs.rmSync(project.dir, { recursive: true, force: true });
  }
}

/** A path as the user would type it: relative to the current folder when inside it. */
function shown(file) {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

runMain('preview', main);
