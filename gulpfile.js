// Builds the mini-program from miniprogram/ into dist/, the folder that WeChat DevTools and miniprogram-ci
// open (project.config.json: miniprogramRoot "dist/").
//   npm run build   clean → (TypeScript ∥ assets) → pack npm
//   npm run watch   build once, then redo only the part whose input changed
const fs = require('node:fs');
const path = require('node:path');
const { src, dest, series, parallel, watch } = require('gulp');
const ts = require('typescript');

const SRC = 'miniprogram';
const DIST = 'dist';
const TSCONFIG = 'tsconfig.json';
const NPM_PACKAGE_JSON = `${SRC}/package.json`;

// Everything in miniprogram/ that is neither TypeScript nor the npm side (that one is packed below).
const ASSETS = [
  `${SRC}/**/*`,
  `!${SRC}/**/*.ts`,
  `!${NPM_PACKAGE_JSON}`,
  `!${SRC}/package-lock.json`,
  `!${SRC}/node_modules/**`,
  `!${SRC}/miniprogram_npm/**`,
];

function clean() {
  return fs.promises.rm(DIST, { recursive: true, force: true });
}

// --- TypeScript ---------------------------------------------------------------------------------
// The compiler API rather than a spawned tsc: the same checks and output as `tsc -p tsconfig.json`, and in
// watch mode the previous builder program is reused, so only changed files are re-checked and re-emitted.
let builder;

function compileTs(done) {
  const diagnostics = [];
  const config = ts.getParsedCommandLineOfConfigFile(TSCONFIG, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => diagnostics.push(d),
  });
  if (config) {
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
      ...builder.emit().diagnostics,
    );
  }
  if (diagnostics.length === 0) return done();
  // Like tsc: colours and code excerpts on a terminal, one plain line per error in a log.
  const format = process.stdout.isTTY ? ts.formatDiagnosticsWithColorAndContext : ts.formatDiagnostics;
  const formatHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: ts.sys.getCurrentDirectory,
    getNewLine: () => '\n',
  };
  const err = new Error(`TypeScript found ${diagnostics.length} error(s):\n${format(diagnostics, formatHost)}`);
  // gulp-cli prints toString() instead of the stack when showStack is set: the compiler's text, no noise.
  err.showStack = false;
  err.toString = () => err.message;
  done(err);
}
compileTs.displayName = 'typescript';

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

const build = series(clean, parallel(compileTs, copyAssets), packNpm);

// --- Watch --------------------------------------------------------------------------------------
function watchAll() {
  // A type error must not end the watch: print it and wait for the next save.
  watch([`${SRC}/**/*.ts`, `!${SRC}/node_modules/**`, 'typings/**/*.d.ts', TSCONFIG], function typescript(done) {
    compileTs((err) => {
      if (err) console.error(err.message);
      done();
    });
  });
  // A deleted .ts file would otherwise leave its stale .js in dist/.
  watch([`${SRC}/**/*.ts`, `!${SRC}/node_modules/**`]).on('unlink', (file) =>
    fs.rmSync(toDist(file).replace(/\.ts$/, '.js'), { force: true }),
  );
  // One changed asset → copy that one file, not the whole tree.
  watch(ASSETS)
    .on('add', copyOne)
    .on('change', copyOne)
    .on('unlink', (file) => fs.rmSync(toDist(file), { force: true }));
  watch(NPM_PACKAGE_JSON, packNpm);
}
watchAll.displayName = 'watch';

function toDist(file) {
  return path.join(DIST, path.relative(SRC, file));
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
