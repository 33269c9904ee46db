/** Replays rows one after another, each with its own scope and time budget, and prints one line per row. */
import { LOGIN_LIMITED, Skip, type Outcome, type RowResult } from './kit/outcome';
import type { AttackRow, ReplayOptions } from './kit/row';
import { Scope } from './kit/scope';
import type { Target } from './kit/target';

/** A row that has not concluded in this long is judged FAILED: the server stalled or stopped answering. */
const DEFAULT_BUDGET_MS = 60_000;

const NAME_WIDTH = 32;

/** One line of the report: `row N  name  VERDICT  detail`. */
export function formatLine(result: RowResult): string {
  return `row ${String(result.row).padEnd(2)}  ${result.name.padEnd(NAME_WIDTH)}  ${result.verdict.padEnd(7)}  ${result.detail}`;
}

/** One row, replayed: its verdict, whatever it threw; everything it opened is closed before this answers. */
export async function replayRow(row: AttackRow, target: Target, options: ReplayOptions): Promise<RowResult> {
  const scope = new Scope(target);
  const started = Date.now();
  const budgetMs = row.budgetMs?.(options) ?? DEFAULT_BUDGET_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ verdict: 'FAILED', detail: `no verdict within ${budgetMs / 1000} s: the server stalled` }),
      budgetMs,
    );
  });
  let outcome: Outcome;
  try {
    outcome = await Promise.race([row.run({ target, scope, options }), timeout]);
  } catch (error) {
    if (error instanceof Skip) outcome = { verdict: 'SKIPPED', detail: error.message };
    else outcome = { verdict: 'FAILED', detail: `the replay broke off: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
    scope.close();
  }
  return { row: row.row, name: row.name, ...outcome, ms: Date.now() - started };
}

/** Replays `rows` in order, handing each result to `report` as it comes. */
export async function replay(
  rows: readonly AttackRow[],
  target: Target,
  options: ReplayOptions,
  report: (result: RowResult) => void = () => {},
): Promise<RowResult[]> {
  const results: RowResult[] = [];
  for (const row of rows) {
    const result = await replayRow(row, target, options);
    results.push(result);
    report(result);
  }
  return results;
}

/** The closing lines: the count of each verdict, and what to do about logins when rows were skipped for them. */
export function summary(results: readonly RowResult[]): string {
  const count = (verdict: string) => results.filter((result) => result.verdict === verdict).length;
  const lines = [`${count('HELD')} held, ${count('FAILED')} failed, ${count('SKIPPED')} skipped`];
  if (results.some((result) => result.detail === LOGIN_LIMITED)) {
    lines.push(
      'Rows were skipped for the login limit: restart the target with e.g. LOGIN_RATE=600 LOGIN_BURST=400 ' +
        'and run again with --login-burst 400.',
    );
  }
  return lines.join('\n');
}
