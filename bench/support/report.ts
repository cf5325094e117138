/**
 * Printing a benchmark's result: a small aligned table for people, then one JSON line for
 * machines (`{"bench":"<name>",...}`), which `run-all.ts` collects. Plus the few statistics the
 * benchmarks share.
 */

export interface Row {
  /** What was measured. */
  what: string;
  /** The figure, already formatted. */
  value: string;
  /** Target, reference or remark. */
  note?: string;
}

/** Prints `rows` as an aligned three-column table under a title. */
export function printTable(title: string, rows: readonly Row[]): void {
  const whatWidth = Math.max(...rows.map((r) => r.what.length));
  const valueWidth = Math.max(...rows.map((r) => r.value.length));
  console.log(`\n${title}`);
  for (const row of rows) {
    const note = row.note === undefined || row.note === "" ? "" : `  ${row.note}`;
    console.log(`  ${row.what.padEnd(whatWidth)}  ${row.value.padStart(valueWidth)}${note}`);
  }
}

/** Prints the machine-readable line: `{"bench":name,...figures}`. */
export function printJson(bench: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, ...figures }));
}

/** Milliseconds with one decimal, or `-` when there is no figure. */
export function ms(value: number | null): string {
  return value === null ? "-" : `${value.toFixed(1)} ms`;
}

/** A ratio with two decimals, or `-`. */
export function ratio(value: number | null): string {
  return value === null ? "-" : `${value.toFixed(2)}x`;
}

/** `met` / `MISSED` for a figure against an upper bound. */
export function verdict(value: number | null, limit: number): string {
  if (value === null) {
    return "n/a";
  }
  return value <= limit ? "met" : "MISSED";
}

/** The `p`-th percentile (0–100) of `values` by nearest rank; `null` for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

/** Rounds to three decimals, for the JSON line. */
export function round3(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}
