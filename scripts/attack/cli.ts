/** `npm run attack` arguments: the target's URL and the operator's choices. */
import { RULES } from './kit/rules';
import type { ReplayOptions } from './kit/row';
import { DEFAULT_URL } from './kit/target';

/**
 * Row 11's default wait: the default idle timeout plus room for a server that checks its connections
 * periodically rather than each on its own timer. The row ends as soon as everything is closed.
 */
const IDLE_WAIT_S = RULES.httpIdleTimeoutMs / 1000 + 15;

export const USAGE = `Replays the attacks of issue 14 against a running server and prints one verdict per row.

  npm run attack -- [url] [--only 1,5] [--slow] [--idle-wait <s>] [--login-burst <n>]

  url                the server (default ${DEFAULT_URL}); only this address is contacted
  --only 1,5         replay only these rows (1-16)
  --slow             also replay row 11, which waits the server's idle timeout
  --idle-wait <s>    how long row 11 waits at most (default ${IDLE_WAIT_S}: HTTP_IDLE_TIMEOUT_MS + 15 s); implies --slow
  --login-burst <n>  the target's LOGIN_BURST (default ${RULES.loginBurst}), so row 6 knows when a 429 is due

The target must run in development login mode (no WX_APPID/WX_SECRET). Its default login limit
(LOGIN_BURST 20, then LOGIN_RATE 10 a minute, per address) is far too few accounts for the replay:
the rows that need them are SKIPPED. For a full replay start it with the limit raised, and tell row 6:

  LOGIN_RATE=600 LOGIN_BURST=400 npm run server
  npm run attack -- --login-burst 400

Each line: row N  name  HELD|FAILED|SKIPPED  detail. Exits 1 when a row FAILED.
The replay writes to the target: accounts, messages and a few tiny uploads. Never aim it at a
production server.`;

export interface Command {
  url: string;
  only?: number[];
  options: ReplayOptions;
  help: boolean;
}

/** A positive whole number from an option's value; throws with a sentence otherwise. */
function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} needs a positive whole number, got ${raw === undefined ? 'nothing' : `"${raw}"`}`);
  }
  return value;
}

/** The command from `process.argv.slice(2)`; throws with a sentence on anything it does not know. */
export function parseArgs(args: readonly string[]): Command {
  const command: Command = {
    url: DEFAULT_URL,
    help: false,
    options: { slow: false, idleWaitS: IDLE_WAIT_S, loginBurst: RULES.loginBurst },
  };
  let urlGiven = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') {
      command.help = true;
    } else if (arg === '--only') {
      const raw = args[++i] ?? '';
      const rows = raw.split(',').map((part) => Number(part.trim()));
      if (raw === '' || rows.some((row) => !Number.isInteger(row) || row < 1 || row > 16)) {
        throw new Error(`--only needs row numbers from 1 to 16, e.g. --only 1,5; got "${raw}"`);
      }
      command.only = [...new Set(rows)];
    } else if (arg === '--slow') {
      command.options.slow = true;
    } else if (arg === '--idle-wait') {
      command.options.idleWaitS = positive('--idle-wait', args[++i]);
      command.options.slow = true;
    } else if (arg === '--login-burst') {
      command.options.loginBurst = Math.min(positive('--login-burst', args[++i]), 2000);
    } else if (!arg.startsWith('-') && !urlGiven) {
      command.url = arg;
      urlGiven = true;
    } else {
      throw new Error(`unknown argument "${arg}"`);
    }
  }
  return command;
}
