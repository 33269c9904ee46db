/** What one replayed attack concluded, and the error a row throws when it cannot be replayed. */

export type Verdict = 'HELD' | 'FAILED' | 'SKIPPED';

export interface Outcome {
  verdict: Verdict;
  /** One line for the operator: what was done and what the server did. */
  detail: string;
}

/** One row of the table, replayed. */
export interface RowResult extends Outcome {
  row: number;
  name: string;
  /** How long the row took, in ms. */
  ms: number;
}

/** Thrown by a row (or the kit on its behalf) that cannot be replayed here: the row is reported SKIPPED. */
export class Skip extends Error {}

/**
 * What a row reports when the target's login limit refuses the accounts it needs (a server with
 * the default LOGIN_RATE / LOGIN_BURST allows 20 logins, then 10 a minute, from one address).
 */
export const LOGIN_LIMITED =
  'the target answered a login with 429: start it with LOGIN_RATE and LOGIN_BURST raised for the replay ' +
  '(docs/reliability.md, "Replaying the attacks")';

/**
 * A row's verdict from its checks: HELD when every check passed, FAILED otherwise. The detail lists
 * the failures first (what the operator has to act on), then what was observed.
 */
export function judge(failures: readonly string[], observed: readonly string[]): Outcome {
  if (failures.length > 0) return { verdict: 'FAILED', detail: [...failures, ...observed].join('; ') };
  return { verdict: 'HELD', detail: observed.join('; ') };
}

/** A row's observations as it makes them; `outcome()` judges them. */
export class Findings {
  private readonly failures: string[] = [];
  private readonly observed: string[] = [];

  /** Records `text`: an observation when `ok`, a failure otherwise. */
  check(ok: boolean, text: string): void {
    (ok ? this.observed : this.failures).push(text);
  }

  /** An observation that does not bear on the verdict. */
  note(text: string): void {
    this.observed.push(text);
  }

  outcome(): Outcome {
    return judge(this.failures, this.observed);
  }
}
