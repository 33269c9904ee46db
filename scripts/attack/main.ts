/**
 * `npm run attack -- [url] [--only 1,5] [--slow] [--idle-wait <s>] [--login-burst <n>]`: replays
 * issue 14's attacks against a running server and prints each row's verdict (docs/reliability.md,
 * "Replaying the attacks"). Exits 1 when a row FAILED, 2 when the target cannot be reached or the
 * arguments are wrong.
 */
import { parseArgs, USAGE, type Command } from './cli';
import { request } from './kit/http';
import { targetOf, type Target } from './kit/target';
import { ROWS } from './rows';
import { formatLine, replay, summary } from './runner';

async function reachable(target: Target): Promise<string | undefined> {
  try {
    const answer = await request(target, 'GET', '/healthz', { timeoutMs: 5000 });
    return answer.status === 200 ? undefined : `/healthz answered ${answer.status}`;
  } catch (error) {
    return (error as Error).message;
  }
}

async function main(): Promise<number> {
  let command: Command;
  let target: Target;
  try {
    command = parseArgs(process.argv.slice(2));
    target = targetOf(command.url);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (command.help) {
    console.log(USAGE);
    return 0;
  }
  const problem = await reachable(target);
  if (problem) {
    console.error(`${target.url} is not answering (${problem}): start the server first (npm run server).`);
    return 2;
  }
  const only = command.only;
  const rows = only ? ROWS.filter((row) => only.includes(row.row)) : ROWS;
  console.log(`Replaying ${rows.length} attack${rows.length === 1 ? '' : 's'} against ${target.url}`);
  const results = await replay(rows, target, command.options, (result) => console.log(formatLine(result)));
  console.log(summary(results));
  return results.some((result) => result.verdict === 'FAILED') ? 1 : 0;
}

// Exits when done: a probe still waiting on a stalled server must not hold the replay open.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
