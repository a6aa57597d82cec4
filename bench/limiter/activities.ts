/** Stamped where the activity starts running: the moment a vendor call would leave the worker. */
export async function recordStart(): Promise<number> {
  return Date.now();
}
