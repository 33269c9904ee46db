// How the ship scripts (preview, upload, the build's checks) fail: one sentence that says what is wrong and
// where to fix it, on stderr, and a non-zero exit. Never a stack trace for a mistake the user can fix.
'use strict';

/** A mistake the user can fix: its message is the whole story, printed as is, without a stack. */
class UserError extends Error {
  /** @param {string} message one sentence: what is wrong, and where to get or fix it */
  constructor(message) {
    super(message);
    this.name = 'UserError';
  }
}

/** Where WeChat keeps what these scripts need: named in the sentences, so nobody has to search for it. */
const CONSOLE = 'the WeChat admin console (mp.weixin.qq.com → 开发管理 → 开发设置)';

/**
 * Runs a script's main function: a UserError prints its sentence, anything else its message (the stack only
 * with --verbose), and the process exits 1; success exits 0. The exit is explicit because miniprogram-ci
 * leaves worker processes and timers behind that would keep Node alive.
 * @param {string} name the script's name, the prefix of its messages
 * @param {() => Promise<void>} main
 */
function runMain(name, main) {
  const verbose = process.argv.includes('--verbose');
  main().then(
    () => process.exit(0),
    (/** @type {unknown} */ err) => {
      if (err instanceof UserError) {
        console.error(`${name}: ${err.message}`);
      } else {
        const message = err instanceof Error ? err.message : String(err);
        console.error(`${name}: failed unexpectedly: ${message.split('\n')[0]} (run again with --verbose for details)`);
        if (verbose && err instanceof Error && err.stack) console.error(err.stack);
      }
      process.exit(1);
    },
  );
}

module.exports = { UserError, CONSOLE, runMain };
