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
const { ROOT } = require('./wechat/settings');
const { checkPage } = require('./wechat/validate');
const { developmentServerUrl, productionServerUrl } = require('./wechat/server-url');
const { runScript, readCredentials, buildAndSend, mainPackageSize } = require('./wechat/send');
const ci = require('./wechat/ci');
const { saveQrCode } = require('./wechat/qrcode');

const COMMAND = {
  usage: 'npm run preview -- --page pages/chat/chat --query conv=abc',
  options: {
    page: { type: 'string' },
    query: { type: 'string' },
    desc: { type: 'string' },
    robot: { type: 'string' },
    production: { type: 'boolean' },
    qrcode: { type: 'string' },
  },
};

/** @param {Record<string, string | boolean | undefined>} options */
async function main(options) {
  const production = options.production === true;

  // Everything is checked before the build, so a mistake costs a second, not a build.
  const { settings, appid, privateKey, robot } = readCredentials(/** @type {string | undefined} */ (options.robot));
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
  /** @param {string} dir the project folder, where miniprogram-ci writes the QR code WeChat sends */
  const base64File = (dir) => path.join(dir, 'qrcode.base64.txt');

  await buildAndSend({
    action: 'preview',
    appid,
    privateKey,
    production,
    out: /** @type {string | undefined} */ (options.out),
    building: `preview: building for app ${appid} (${production ? 'production' : 'development'}, server ${server.url})`,
    sending: `preview: sending it to WeChat (robot ${robot})`,
    send: ({ project, dir, onProgressUpdate }) =>
      ci.preview({ project, desc, robot, pagePath, searchQuery, qrcodeFile: base64File(dir), onProgressUpdate }),
    report: async (result, dir) => {
      const qr = await saveQrCode(fs.readFileSync(base64File(dir), 'utf8'), qrcodeFile);
      if (qr.terminal) console.log(`\n${qr.terminal}\n`);
      const size = mainPackageSize(result);
      const opens = pagePath ? `opens ${pagePath}${searchQuery ? `?${searchQuery}` : ''}` : 'opens the home page';
      console.log(
        `preview: ready${size ? `, main package ${size} as WeChat counts it` : ''}; scan the QR code with WeChat on your phone (it ${opens}; saved as ${shown(qr.file)}).`,
      );
      if (!production) {
        console.log(
          `preview: the app talks to ${server.url}: run npm start here, keep the phone on the same Wi-Fi, and turn on 开发调试 in the preview's ··· menu (development addresses are not in the app's domain list).`,
        );
      }
    },
  });
}

/** A path as the user would type it: relative to the current folder when inside it. */
function shown(file) {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

runScript('preview', COMMAND, main);
