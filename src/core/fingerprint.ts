import { stableFraction } from "./backoff.js";

/** Terminal colour and cursor sequences (ESC [ … letter). */
const ANSI_SEQUENCE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/**
 * Normalises a gate's output so that two runs failing the same way compare equal: timestamps,
 * durations, hex ids, temp paths, line:col positions and numbers are masked, whitespace
 * collapsed. Only the last 40 non-empty lines count, where test runners print their verdict.
 */
export function normaliseFailure(output: string): string {
  return output
    .split("\n")
    .map((line) =>
      line
        .replace(ANSI_SEQUENCE, "")
        .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?/g, "<time>")
        .replace(/\b\d+(?:\.\d+)?\s?(?:ms|s|m)\b/g, "<dur>")
        .replace(/\/tmp\/[^\s:'"]+/g, "<tmp>")
        .replace(/\b[0-9a-f]{7,64}\b/gi, "<hex>")
        .replace(/:\d+:\d+/g, ":<pos>")
        .replace(/\d+/g, "<n>")
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter((line) => line !== "")
    .slice(-40)
    .join("\n");
}

/** `gate:xxxxxxxx`, equal for two failures of the same gate whose normalised output is equal. */
export function failureFingerprint(gate: string, output: string): string {
  const hash = Math.floor(stableFraction(normaliseFailure(output)) * 0x1_0000_0000);
  return `${gate}:${hash.toString(16).padStart(8, "0")}`;
}

/** True when two sets of fingerprints hold the same members. */
export function sameFingerprints(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  const set = new Set(a);
  return b.every((f) => set.has(f));
}
