/**
 * Reading an agent's log, where JSON event lines and plain text (stderr, notices) share one
 * file. Pure.
 */

/** The JSON object on one line, or `null` for anything else (text, arrays, cut-off JSON). */
export function parseJsonObject(line: string): Record<string, unknown> | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) {
    return null;
  }
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    // Not JSON after all (a log line that starts with a brace, a cut-off write).
    return null;
  }
}

/**
 * The lines of `tail` that are not JSON objects, so that numbers inside events (token counts,
 * ids) cannot read as HTTP statuses when the text is classified.
 */
export function plainText(tail: string): string {
  return tail
    .split("\n")
    .filter((line) => parseJsonObject(line) === null)
    .join("\n");
}
