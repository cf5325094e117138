/**
 * "Did you mean" hints for names a user mistyped. Pure.
 */

/**
 * The choice closest to `word` by edit distance, when it is close enough to be a likely typo
 * (at most a third of the word's length, and at least one edit); otherwise `undefined`.
 */
export function closestMatch(word: string, choices: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const choice of choices) {
    const distance = editDistance(word.toLowerCase(), choice.toLowerCase());
    if (distance < bestDistance) {
      best = choice;
      bestDistance = distance;
    }
  }
  return best;
}

/** `" (did you mean 'x'?)"` when a choice is close to `word`, else an empty string. */
export function didYouMean(word: string, choices: readonly string[]): string {
  const match = closestMatch(word, choices);
  return match === undefined || match === word ? "" : ` (did you mean '${match}'?)`;
}

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours (optimal
 * string alignment), so the common typo "plna" is one edit from "plan".
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}
