/**
 * `run()`'s result, or `timeout()`'s error once `ms` have passed. The call
 * may still settle after that; nobody is waiting for it then. A `run` that
 * throws at once rejects, like one that fails later.
 */
export async function withDeadline<T>(ms: number, run: () => Promise<T>, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const call = run();
  call.catch(() => undefined);
  try {
    return await Promise.race([
      call,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
