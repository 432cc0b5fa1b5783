// Bounded concurrency: `limit(n)` returns a function that runs tasks with at most n in flight.

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function limit(n: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
