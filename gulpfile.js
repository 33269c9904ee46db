// Builds the mini-program from miniprogram/ into dist/, the folder that WeChat DevTools and miniprogram-ci
// open (project.config.json: miniprogramRoot "dist/").
//   npm run build        server address → clean → (TypeScript ∥ assets) → pack npm → package size
//   npm run build:prod   the same for release (`gulp build --production`)
//   npm run watch        build once, then redo only the part whose input changed
//
// Flags:
//   --production   the production server address (SERVER_URL: wss:// or https://, from the environment or .env;
//                  the build fails without one) and no comments in the JavaScript. Without it: development,
//                  this machine's LAN address (scripts/wechat/server-url.js says how it is chosen).
//   --dest <dir>   build into <dir> instead of dist/ (preview, upload and the tests use a temporary folder, so
//                  they never replace the dist/ that WeChat DevTools runs)
const fs = require('node:fs');
const path = require('node:path');
const { src, dest, series, parallel, watch } = require('gulp');
const ts = require('typescript');
const { resolveServerUrl } = require('./scripts/wechat/server-url');
const { checkPackageSize } = require('./scripts/wechat/package-size');

const SRC = 'miniprogram';
/** The wire contract, shared with the server: compiled into <dist>/contract/ beside the app's own code. */
const CONTRACT = 'contract';
const TSCONFIG = 'tsconfig.json';
const NPM_PACKAGE_JSON = `${SRC}/package.json`;
const PRODUCTION = process.argv.includes('--production');
const DIST = destination(process.argv);
/** The module whose `export const SERVER_URL = '…'` the build replaces with the address for this build. */
const CONFIG_TS = path.resolve(SRC, 'config.ts');

// Everything in miniprogram/ that is neither TypeScript nor the npm side (that one is packed below).
const ASSETS = [
  `${SRC}/**/*`,
  `!${SRC}/**/*.ts`,
  `!${NPM_PACKAGE_JSON}`,
  `!${SRC}/package-lock.json`,
  `!${SRC}/node_modules/**`,
  `!${SRC}/miniprogram_npm/**`,
];

/**
 * `--dest <dir>` or `--dest=<dir>`, else dist/; never a folder that holds the sources (clean empties it).
 * @param {string[]} argv
 */
function destination(argv) {
  const i = argv.findIndex((a) => a === '--dest' || a.startsWith('--dest='));
  if (i < 0) return 'dist';
  const dir = argv[i].startsWith('--dest=') ? argv[i].slice('--dest='.length) : argv[i + 1];
  const resolved = path.resolve(dir || '');
  if (!dir || resolved === path.resolve(SRC) || path.resolve(SRC).startsWith(resolved + path.sep)) {
    throw new Error(`--dest must name an output folder outside ${SRC}/ (got "${dir || ''}")`);
  }
  return resolved;
}

/** An error gulp-cli prints as its message alone: our messages are one sentence, a stack adds only noise. */
function plainError(message) {
  const err = new Error(message);
  err.showStack = false;
  err.toString = () => err.message;
  return err;
}

// --- Server address -----------------------------------------------------------------------------
// Resolved first, so a production build without a usable SERVER_URL stops before anything is deleted.
let serverUrl;

function serverAddress(done) {
  try {
    const resolved = resolveServerUrl({ production: PRODUCTION });
    serverUrl = resolved.url;
    console.log(`server address: ${serverUrl} (${PRODUCTION ? 'production' : 'development'}: ${resolved.why})`);
    done();
  } catch (err) {
    done(plainError(err.message));
  }
}
serverAddress.displayName = 'server-address';

function clean() {
  return fs.promises.rm(DIST, { recursive: true, force: true });
}

// --- TypeScript ---------------------------------------------------------------------------------
// The compiler API rather than a spawned tsc: the same checks and output as `tsc -p tsconfig.json`, and in
// watch mode the previous builder program is reused, so only changed files are re-checked and re-emitted.
// tsconfig.json's rootDir is the repository (the app imports ../contract/); the emit puts miniprogram/x.js at
// <dist>/x.js and contract/x.js at <dist>/contract/x.js, and the app's imports of the contract are rewritten
// to match, so dist/ holds everything the app runs.
let builder;

/** Where a file the compiler emitted under <dist>/ belongs: <dist>/miniprogram/x.js moves up to <dist>/x.js. */
function outputFile(emitted) {
  const appDir = path.join(path.resolve(DIST), SRC);
  return emitted.startsWith(appDir + path.sep)
    ? path.join(path.resolve(DIST), path.relative(appDir, emitted))
    : emitted;
}

function writeOutput(fileName, text) {
  const file = outputFile(fileName);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function compileTs(done) {
  const diagnostics = [];
  const config = ts.getParsedCommandLineOfConfigFile(TSCONFIG, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => diagnostics.push(d),
  });
  if (config) {
    config.options.outDir = path.resolve(DIST);
    if (PRODUCTION) config.options.removeComments = true;
    // The incremental host versions files by hash, which the builder needs to tell what changed.
    const host = ts.createIncrementalCompilerHost(config.options);
    builder = ts.createEmitAndSemanticDiagnosticsBuilderProgram(
      config.fileNames,
      config.options,
      host,
      builder,
      config.errors,
    );
    diagnostics.push(
      ...builder.getConfigFileParsingDiagnostics(),
      ...builder.getOptionsDiagnostics(),
      ...builder.getSyntacticDiagnostics(),
      ...builder.getGlobalDiagnostics(),
      ...builder.getSemanticDiagnostics(),
      ...builder.emit(undefined, writeOutput, undefined, undefined, { before: [injectServerUrl, contractImports] })
        .diagnostics,
    );
  }
  if (diagnostics.length === 0) {
    const emitted = fs.readFileSync(path.join(DIST, 'config.js'), 'utf8');
    if (!emitted.includes(`'${serverUrl}'`)) {
      return done(
        plainError(`${SRC}/config.ts must keep \`export const SERVER_URL = '…';\` (a string): the build replaces it`),
      );
    }
    return done();
  }
  // Like tsc: colours and code excerpts on a terminal, one plain line per error in a log.
  const format = process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
  const formatHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: ts.sys.getCurrentDirectory,
    getNewLine: () => '\n',
  };
  // gulp-cli prints toString() instead of the stack when showStack is set: the compiler's text, no noise.
  done(plainError(`TypeScript found ${diagnostics.length} error(s):\n${format(diagnostics, formatHost)}`));
}
compileTs.displayName = 'typescript';

// A TypeScript transformer: in miniprogram/config.ts, `SERVER_URL = '<anything>'` becomes this build's address.
function injectServerUrl(context) {
  return (sourceFile) => {
    if (path.resolve(sourceFile.fileName) !== CONFIG_TS) return sourceFile;
    const visit = (node) => {
      if (
        ts.isVariableDeclaration(node) &&
        ts.isIdentifier(node.name) &&
        node.name.text === 'SERVER_URL' &&
        node.initializer &&
        ts.isStringLiteralLike(node.initializer)
      ) {
        const url = context.factory.createStringLiteral(serverUrl, true);
        return context.factory.updateVariableDeclaration(node, node.name, node.exclamationToken, node.type, url);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit);
  };
}

// A TypeScript transformer: in the app's files, `../../contract/x` (right in the source tree) becomes the path
// from the file's place in <dist>/ to <dist>/contract/x.
function contractImports(context) {
  const root = path.resolve(__dirname);
  const appDir = path.join(root, SRC);
  const contractDir = path.join(root, CONTRACT);
  return (sourceFile) => {
    const from = path.dirname(path.resolve(sourceFile.fileName));
    if (!from.startsWith(appDir + path.sep) && from !== appDir) return sourceFile;
    const rewrite = (specifier) => {
      const target = path.resolve(from, specifier.text);
      if (!specifier.text.startsWith('.') || !target.startsWith(contractDir + path.sep)) return specifier;
      const builtFrom = path.join(root, path.relative(appDir, from));
      let relative = path.relative(builtFrom, path.join(root, CONTRACT, path.relative(contractDir, target)));
      if (!relative.startsWith('.')) relative = `./${relative}`;
      return context.factory.createStringLiteral(relative.split(path.sep).join('/'), true);
    };
    const visit = (node) => {
      const f = context.factory;
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        return f.updateImportDeclaration(
          node,
          node.modifiers,
          node.importClause,
          rewrite(node.moduleSpecifier),
          node.attributes,
        );
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        return f.updateExportDeclaration(
          node,
          node.modifiers,
          node.isTypeOnly,
          node.exportClause,
          rewrite(node.moduleSpecifier),
          node.attributes,
        );
      }
      return node;
    };
    return ts.visitEachChild(sourceFile, visit, context);
  };
}

// --- Assets -------------------------------------------------------------------------------------
// encoding: false keeps images byte for byte (gulp 5 otherwise decodes every file as UTF-8).
function copyAssets() {
  return src(ASSETS, { base: SRC, encoding: false }).pipe(dest(DIST));
}
copyAssets.displayName = 'assets';

// --- npm ----------------------------------------------------------------------------------------
// miniprogram-ci turns miniprogram/node_modules into dist/miniprogram_npm, as DevTools' "Build npm" does.
// Required lazily: it is heavy, and only this task needs it.
async function packNpm() {
  const ci = require('miniprogram-ci');
  const result = await ci.packNpmManually({ packageJsonPath: NPM_PACKAGE_JSON, miniprogramNpmDistDir: `${DIST}/` });
  for (const w of result.warnList || []) console.warn('pack npm warning:', w.msg || w);
  // It only warns when it packs nothing (e.g. miniprogram/node_modules not installed): make that an error.
  const wanted = Object.keys(JSON.parse(fs.readFileSync(NPM_PACKAGE_JSON, 'utf8')).dependencies || {});
  const missing = wanted.filter((name) => !fs.existsSync(path.join(DIST, 'miniprogram_npm', name)));
  if (missing.length > 0) {
    throw new Error(`not packed into ${DIST}/miniprogram_npm: ${missing.join(', ')} (run npm ci --prefix ${SRC})`);
  }
  console.log(`packed into ${DIST}/miniprogram_npm: ${wanted.join(', ')}`);
}
packNpm.displayName = 'npm';

// --- Package size -------------------------------------------------------------------------------
// WeChat's budget (2 MB main package, images optimised): reported on every build, a failure above it.
function packageSize(done) {
  const projectConfig = JSON.parse(fs.readFileSync('project.config.json', 'utf8'));
  const ignore = (projectConfig.packOptions && projectConfig.packOptions.ignore) || [];
  try {
    const shown = path.relative('.', DIST);
    console.log(checkPackageSize(DIST, { ignore, shown: shown.startsWith('..') ? DIST : shown || '.' }));
    done();
  } catch (err) {
    done(plainError(err.message));
  }
}
packageSize.displayName = 'package-size';

const build = series(serverAddress, clean, parallel(compileTs, copyAssets), packNpm, packageSize);

// --- Watch --------------------------------------------------------------------------------------
function watchAll() {
  // A type error must not end the watch: print it and wait for the next save.
  const sources = [`${SRC}/**/*.ts`, `${CONTRACT}/**/*.ts`, `!${SRC}/node_modules/**`];
  watch([...sources, 'typings/**/*.d.ts', TSCONFIG], function typescript(done) {
    compileTs((err) => {
      if (err) console.error(err.message);
      done();
    });
  });
  // A deleted .ts file would otherwise leave its stale .js in dist/.
  watch(sources).on('unlink', (file) => fs.rmSync(toDist(file).replace(/\.ts$/, '.js'), { force: true }));
  // One changed asset → copy that one file, not the whole tree.
  watch(ASSETS)
    .on('add', copyOne)
    .on('change', copyOne)
    .on('unlink', (file) => fs.rmSync(toDist(file), { force: true }));
  watch(NPM_PACKAGE_JSON, packNpm);
}
watchAll.displayName = 'watch';

function toDist(file) {
  const inContract = !path.relative(CONTRACT, file).startsWith('..');
  return inContract ? path.join(DIST, file) : path.join(DIST, path.relative(SRC, file));
}

function copyOne(file) {
  src(file, { base: SRC, encoding: false })
    .pipe(dest(DIST))
    .on('finish', () => console.log(`copied ${file}`));
}

exports.clean = clean;
exports.build = build;
exports.watch = series(build, watchAll);
exports.default = build;
