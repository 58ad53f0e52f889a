/**
 * A promise that gives up waiting: `work`, or the error `late()` makes once `ms` have passed
 * without an answer. The loader bounds the engine's answers with it, the engine its storage's:
 * on a page, something that never answers must become a fallback, never a blank slot. (The work
 * itself goes on; whoever gave up closes what it might still hand back.)
 */
export function answerWithin<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}
