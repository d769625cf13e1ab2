/**
 * `workers` clients at once, each making `each` calls one after the other (the shape of
 * the consumption race tests): every answer, flattened. `call(w, i)`: worker w's i-th call.
 */
export async function inParallel<T>(workers: number, each: number, call: (w: number, i: number) => Promise<T>): Promise<T[]> {
  const answers = await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const mine: T[] = [];
      for (let i = 0; i < each; i++) mine.push(await call(w, i));
      return mine;
    }),
  );
  return answers.flat();
}
