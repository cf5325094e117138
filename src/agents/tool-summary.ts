const SUMMARY_MAX = 200;

/**
 * A one-line summary of a tool call's input: the first of `keys` that holds a string (its
 * command, path, pattern or URL), else the input as JSON, whitespace folded and clipped.
 */
export function summarizeToolInput(
  input: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): string {
  const key = keys.find((k) => typeof input[k] === "string" && input[k] !== "");
  const raw = key === undefined ? JSON.stringify(input) : String(input[key]);
  const line = raw.replace(/\s+/g, " ").trim();
  return line.length > SUMMARY_MAX ? `${line.slice(0, SUMMARY_MAX - 1)}…` : line;
}
