// Command-line options of preview and upload, with a one-sentence answer to every mistake, including the
// classic one: `npm run upload --desc "x"` without the `--` hands --desc to npm, not to the script.
'use strict';
const { parseArgs } = require('node:util');
const { UserError } = require('./errors');

/**
 * @param {string[]} argv the script's arguments (process.argv.slice(2))
 * @param {Record<string, { type: 'string' | 'boolean' }>} options
 * @param {string} usage e.g. 'npm run upload -- --version 1.2.3 --desc "what changed"'
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {Record<string, string | boolean | undefined>}
 */
function parseOptions(argv, options, usage, env = process.env) {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { ...options, verbose: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    }));
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '') : '';
    throw new UserError(`${message.replace(/\.$/, '')}; usage: ${usage}.`);
  }
  if (positionals.length > 0) {
    throw new UserError(
      `Unexpected argument "${positionals[0]}": options start with --, and npm passes them on only after a "--", e.g. ${usage}.`,
    );
  }
  // npm keeps the options it is given before `--` as npm_config_<name> (--desc is its alias of --description).
  const swallowed = Object.keys(options).filter(
    (name) =>
      options[name].type === 'string' &&
      values[name] === undefined &&
      (env[`npm_config_${name}`] || (name === 'desc' && env.npm_config_description)),
  );
  if (swallowed.length > 0) {
    throw new UserError(
      `npm kept --${swallowed.join(', --')} for itself: put "--" before the script's options, e.g. ${usage}.`,
    );
  }
  return values;
}

module.exports = { parseOptions };
