// Retrying transient failures with exponential backoff and jitter, abortable. The registry client and the
// cloud adapters (ECR, Artifact Registry: throttling, 5xx) use it.
import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  /** Retries after the first attempt. Default 4 (5 attempts). */
  retries?: number;
  /** First backoff delay; it doubles per retry (capped at 16×) with ±25% jitter. Default 250 ms. */
  delayMs?: number;
  /** Aborting stops waiting and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Whether a failure is worth another attempt; it may throw to stop with another error. */
  isTransient(error: unknown): boolean;
  /** The error thrown when the retries are spent (default: the last failure). */
  giveUp?(error: unknown, attempts: number): unknown;
}

/** Runs `attempt` until it succeeds, retrying the failures `isTransient` accepts. */
export async function retrying<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const retries = options.retries ?? 4;
  const delayMs = options.delayMs ?? 250;
  const { signal } = options;
  for (let i = 0; ; i++) {
    signal?.throwIfAborted();
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!options.isTransient(error)) throw error;
      if (i >= retries) throw options.giveUp ? options.giveUp(error, i + 1) : error;
    }
    const base = Math.min(delayMs * 2 ** i, delayMs * 16);
    try {
      await sleep(base * (0.75 + Math.random() / 2), undefined, signal ? { signal } : {});
    } catch {
      throw signal?.reason;
    }
  }
}
