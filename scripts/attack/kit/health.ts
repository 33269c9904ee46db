/** How quickly `/healthz` answers: the event loop's responsiveness as a client sees it. */
import { request } from './http';
import { delay } from './pool';
import type { Target } from './target';

export interface HealthWatch {
  /** Stops probing; answers the slowest answer (an unanswered probe counts as its wait so far) and the count. */
  stop(): Promise<{ slowestMs: number; probes: number; failures: number }>;
}

/** Probes `/healthz` every `everyMs` (one probe at a time) until stopped. */
export function watchHealth(target: Target, everyMs = 100): HealthWatch {
  let running = true;
  let slowestMs = 0;
  let probes = 0;
  let failures = 0;
  let pendingSince: number | undefined;
  const loop = (async () => {
    while (running) {
      pendingSince = Date.now();
      try {
        const answer = await request(target, 'GET', '/healthz', { timeoutMs: 30_000 });
        if (answer.status !== 200) failures += 1;
      } catch {
        failures += 1;
      }
      slowestMs = Math.max(slowestMs, Date.now() - pendingSince);
      pendingSince = undefined;
      probes += 1;
      if (running) await delay(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      // A probe still waiting is not waited for: it is already as slow as it has been.
      const waited = pendingSince === undefined ? 0 : Date.now() - pendingSince;
      await Promise.race([loop, delay(0)]);
      return { slowestMs: Math.max(slowestMs, waited), probes, failures };
    },
  };
}

/** Waits (up to `maxMs`) until `/healthz` answers within `withinMs`; answers how long that took, or undefined. */
export async function recovered(target: Target, withinMs: number, maxMs: number): Promise<number | undefined> {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    const asked = Date.now();
    try {
      const answer = await request(target, 'GET', '/healthz', { timeoutMs: Math.max(1000, maxMs - (asked - started)) });
      if (answer.status === 200 && Date.now() - asked < withinMs) return Date.now() - started;
    } catch {
      // Not yet.
    }
    await delay(200);
  }
  return undefined;
}
