/**
 * The error a wait rejects with when its `AbortSignal` aborts: `name` is `"AbortError"` (as in
 * Node's own APIs), and the signal's reason is kept as `cause`.
 */
export function makeAbortError(message: string, signal: AbortSignal): Error {
  const error = new Error(message, { cause: signal.reason });
  error.name = "AbortError";
  return error;
}
