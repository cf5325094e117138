export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const UNIT_MS = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/**
 * Parses a duration such as `45m`, `1h30m`, `10s` or `250ms` into milliseconds.
 * Returns `undefined` for anything else (bare numbers included), so callers can report where
 * the bad value was.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!WHOLE.test(trimmed)) {
    return undefined;
  }
  let total = 0;
  for (const match of trimmed.matchAll(PART)) {
    const [, amount, unit] = match;
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Math.round(total);
}

/** Formats milliseconds for people: `850ms`, `12.3s`, `4m05s`, `2h10m`. */
export function formatDuration(ms: number): string {
  if (ms < SECOND) {
    return `${Math.round(ms)}ms`;
  }
  if (ms < MINUTE) {
    return `${(ms / SECOND).toFixed(1)}s`;
  }
  if (ms < HOUR) {
    const m = Math.floor(ms / MINUTE);
    const s = Math.floor((ms % MINUTE) / SECOND);
    return `${m}m${String(s).padStart(2, "0")}s`;
  }
  const h = Math.floor(ms / HOUR);
  const m = Math.floor((ms % HOUR) / MINUTE);
  return `${h}h${String(m).padStart(2, "0")}m`;
}
