/** Turns anything thrown into an `Error`, keeping the original as `cause` when it was not one. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) {
    return thrown;
  }
  const message = typeof thrown === "string" ? thrown : safeString(thrown);
  return new Error(message, { cause: thrown });
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Circular or otherwise unserialisable: fall back to the default conversion.
    return String(value);
  }
}
