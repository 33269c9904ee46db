// Runs the benchmark's TypeScript (and the mini-program sources it measures) straight from source:
// each .ts file is compiled by @swc/core (already the test suite's compiler) as Node loads it.
// Types are checked separately, by `tsc -p bench/tsconfig.json` in `npm run bench`.
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
