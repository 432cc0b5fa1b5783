// Stop waiting for work that has no AbortSignal of its own (a gax API call, a library's promise): the caller
// rejects with the signal's reason at once, the work's own `cancel()` is called when it has one (gax call
// promises do), and its later failure is swallowed rather than left unhandled.

/** A promise that may be cancellable (gax's call promises have `cancel()`). */
export type CancellablePromise<T> = Promise<T> & { cancel?: () => void };

/** `promise`, or the signal's reason as soon as `signal` aborts (calling `promise.cancel()` if it has one). */
export function abortable<T>(promise: CancellablePromise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const cancel = () => {
    promise.catch(() => {});
    promise.cancel?.();
  };
  if (signal.aborted) {
    cancel();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
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
