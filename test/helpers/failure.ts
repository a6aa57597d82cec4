/** The error a call that must fail was rejected with; a call that succeeds fails the test. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}

/** The messages of an error and of every cause under it. */
export function causes(err: unknown): string[] {
  const messages: string[] = [];
  for (let current: unknown = err; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages;
}
