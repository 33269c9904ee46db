/** What every attack module exports: its row of the table, and how to replay it. */
import type { Outcome } from './outcome';
import type { Scope } from './scope';
import type { Target } from './target';

/** The operator's choices that some rows read. */
export interface ReplayOptions {
  /** Replay the rows that wait for the server's own timeouts (row 11). */
  slow: boolean;
  /** How long row 11 waits for the server to close idle connections, in seconds. */
  idleWaitS: number;
  /** The target's LOGIN_BURST, so row 6 knows how many logins must be taken before a 429. */
  loginBurst: number;
}

export interface AttackContext {
  target: Target;
  /** Everything the row opens goes through here; the runner closes it when the row ends. */
  scope: Scope;
  options: ReplayOptions;
}

export interface AttackRow {
  /** The row of issue 14's table. */
  row: number;
  /** A few words, as in the table. */
  name: string;
  /** How long the row may take before it is judged FAILED (the server stalled), in ms. */
  budgetMs?(options: ReplayOptions): number;
  run(context: AttackContext): Promise<Outcome>;
}
