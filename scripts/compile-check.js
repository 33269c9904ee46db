#!/usr/bin/env node
// Compiles the built mini-program (dist/) with WeChat's own tool chain, offline, and fails on what WeChat
// DevTools or an upload would reject: a page in app.json without its files, an unknown component in
// usingComponents, broken WXML, JS or JSON.
//
//   node scripts/compile-check.js [projectPath=dist] [--verbose]
//   node scripts/compile-check.js --production [--verbose]
//
// --production checks the release build instead: it builds it (`gulp build --production`) into a temporary
// folder and compiles that, so dist/ stays the development build. The production server address does not
// matter to the compiler: a stand-in (SERVER_URL=https://compile-check.invalid) is used, so the check needs
// no configuration and runs in `npm test`.
//
// Two passes:
//   1. miniprogram-ci's getCompiledResult(): the compile an upload does (app.json/page/component checks,
//      babel, and minifyWXML/WXSS, which parse every WXML and WXSS file). Nothing is uploaded.
//   2. wcc, WeChat's WXML compiler (shipped by miniprogram-compiler, which miniprogram-simulate also uses to
//      render pages in tests): it also catches what the minifier lets through, e.g. a missing end tag.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, readJson, projectAppId } = require('./wechat/settings');
const { projectFolder, buildProject } = require('./wechat/build');
const { createProject, loadCi, quietly } = require('./wechat/ci');

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const production = args.includes('--production');
// The folder compiled: the one named (dist/ by default), or with --production the build made below.
let projectPath = path.resolve(ROOT, args.find((a) => !a.startsWith('--')) || 'dist');
const rel = path.relative(process.cwd(), projectPath);
const shown = rel.startsWith('..') ? projectPath : rel || '.';
const place = production ? 'the production build' : `${shown}/`;

// The production build, in a temporary folder removed on exit; its log is shown only if it fails.
async function buildProduction() {
  const { dir } = projectFolder(undefined, 'compile-check-production');
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  try {
    await buildProject({
      dir,
      production: true,
      env: { ...process.env, SERVER_URL: 'https://compile-check.invalid' },
      quiet: !verbose,
    });
  } catch (err) {
    console.error(String((err && err.log) || '').trim());
    console.error('compile-check: FAILED: the production build failed (its log is above)');
    process.exit(1);
  }
  return path.join(dir, 'dist');
}

// The app id of the project files, as in preview and upload (the private config, DevTools' per-developer
// override, first); the compiler needs one, and the tourist id will do. A file that is not JSON is passed over.
const appid =
  projectAppId(
    readJson(path.join(ROOT, 'project.private.config.json'), { strict: false }),
    readJson(path.join(ROOT, 'project.config.json'), { strict: false }),
  )?.value || 'touristappid';

function fail(summary, details) {
  console.error(`compile-check: FAILED in ${place}: ${summary}`);
  if (details && details.includes('\n')) console.error(details); // one-line messages are the summary already
  process.exit(1);
}

// miniprogram-ci chats on the console (and logs a failed look-up of a WeChat server, which it survives by
// using its built-in list); ci.js keeps that for --verbose, so only our verdict and the compiler's errors show.
async function compileWithCi() {
  if (!fs.existsSync(path.join(projectPath, 'app.json'))) fail('no app.json (run `npm run build` first?)');
  const ci = loadCi();
  const project = createProject({ appid, privateKey: 'offline', projectDir: projectPath });
  // attr() would ask WeChat's servers for the account's limits (and need a real key): use the defaults.
  project.attr = async () => ci.DefaultProjectAttr;
  const files = await quietly(() =>
    ci.getCompiledResult({
      project,
      setting: { es6: true, es7: true, minify: true, minifyJS: true, minifyWXML: true, minifyWXSS: true },
    }),
  );
  return Object.keys(files).length;
}

function compileWxml() {
  let bin;
  try {
    const dir = path.dirname(require.resolve('miniprogram-compiler/package.json'));
    bin = path.join(dir, 'bin', { darwin: 'mac/wcc', linux: 'linux/wcc', win32: 'windows/wcc.exe' }[process.platform]);
  } catch {
    return 'skipped (miniprogram-compiler not installed)';
  }
  const wxml = listFiles(projectPath).filter((f) => f.endsWith('.wxml'));
  if (wxml.length === 0) return 'no WXML';
  // npm does not keep the binary's execute bit: run a private executable copy.
  const exe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wcc-')), path.basename(bin));
  fs.copyFileSync(bin, exe);
  fs.chmodSync(exe, 0o755);
  const run = spawnSync(exe, ['-d', ...wxml], {
    cwd: projectPath,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  fs.rmSync(path.dirname(exe), { recursive: true, force: true });
  // The binaries are x86-64 only: elsewhere, say so and rely on the first pass.
  if (run.error) return `skipped (could not run ${bin}: ${run.error.message})`;
  if (run.status !== 0) {
    const message = run.stderr.trim() || `wcc exited with ${run.status}`;
    fail(`WXML: ${message.split('\n')[0]}`, message);
  }
  return `${wxml.length} WXML file(s)`;
}

// The first line of the compiler's message that says more than a file name, prefixed with the file
// when it does not name it (WXML and JSON errors carry their file only in err.path).
function headline(message, file) {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const namesOnly = (l) => /^file:\s*\S+$/.test(l) || l.split(/[\s:]+/).every((w) => !w || (file && w.endsWith(file)));
  const line = lines.find((l) => !namesOnly(l)) || lines[0] || 'unknown error';
  return file && !line.includes(file) ? `${file}: ${line}` : line;
}

function listFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(full, base) : [path.relative(base, full).split(path.sep).join('/')];
  });
}

(async () => {
  if (production) projectPath = await buildProduction();
  // The compiler writes an (empty, here useless) cache folder named by a hash into the current directory:
  // give it a temporary one rather than the repository.
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'compile-check-'));
  process.on('exit', () => fs.rmSync(workDir, { recursive: true, force: true }));
  process.chdir(workDir);
  let compiled;
  try {
    compiled = await compileWithCi();
  } catch (err) {
    const message = String((err && err.message) || err).trim();
    fail(headline(message, err && err.path), message);
  }
  const wcc = compileWxml();
  console.log(
    `compile-check: OK, ${place} compiled by WeChat's compiler (appid ${appid}): ${compiled} files; wcc: ${wcc}`,
  );
  // miniprogram-ci leaves handles open (worker processes, timers): the process would not end by itself.
  process.exit(0);
})().catch((err) => fail(String((err && err.stack) || err)));
