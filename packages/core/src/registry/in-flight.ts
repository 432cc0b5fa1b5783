// Work shared by concurrent callers asking the same question (the same manifest, token or credentials):
// one request runs, every caller gets its result. Each caller may pass its own AbortSignal; an aborted caller
// stops waiting at once, and the shared work is aborted only when every caller that could abort it has.

interface Entry<V> {
  readonly controller: AbortController;
  readonly promise: Promise<V>;
  /** Callers still waiting; a caller without a signal is never subtracted, so it keeps the work alive. */
  waiters: number;
}

export class InFlight<V> {
  readonly #running = new Map<string, Entry<V>>();

  run(key: string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<V>): Promise<V> {
    signal?.throwIfAborted();
    let entry = this.#running.get(key);
    if (entry === undefined) {
      const controller = new AbortController();
      const promise = work(controller.signal).finally(() => {
        if (this.#running.get(key) === created) this.#running.delete(key);
      });
      const created: Entry<V> = { controller, promise, waiters: 0 };
      this.#running.set(key, created);
      entry = created;
    }
    entry.waiters++;
    if (signal === undefined) return entry.promise;
    const joined = entry;
    return new Promise<V>((resolve, reject) => {
      const onAbort = () => {
        joined.waiters--;
        if (joined.waiters === 0) {
          if (this.#running.get(key) === joined) this.#running.delete(key);
          joined.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      joined.promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }
}
