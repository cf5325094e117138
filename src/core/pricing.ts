/**
 * What tokens cost, for agents whose CLI reports no cost of its own (Codex, command agents
 * printing usage). An agent's `prices` in `baton.yaml` win; otherwise a small table of list
 * prices by model family, which goes stale as vendors change prices: set `prices` where the
 * figure matters. Pure.
 */
import type { PricesDef } from "./pipeline-def.js";

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** List prices, USD per million tokens, by model-name prefix; the longest match wins. */
const LIST_PRICES: readonly (readonly [string, PricesDef])[] = [
  ["claude-opus-4-0", usd(15, 75, 1.5, 18.75)],
  ["claude-opus-4-1", usd(15, 75, 1.5, 18.75)],
  ["claude-opus-4-2", usd(15, 75, 1.5, 18.75)],
  ["claude-opus", usd(5, 25, 0.5, 6.25)],
  ["claude-sonnet", usd(3, 15, 0.3, 3.75)],
  ["claude-haiku", usd(1, 5, 0.1, 1.25)],
  ["opus", usd(5, 25, 0.5, 6.25)],
  ["sonnet", usd(3, 15, 0.3, 3.75)],
  ["haiku", usd(1, 5, 0.1, 1.25)],
  ["gpt-5-nano", usd(0.05, 0.4, 0.005, 0.05)],
  ["gpt-5-mini", usd(0.25, 2, 0.025, 0.25)],
  ["gpt-5", usd(1.25, 10, 0.125, 1.25)],
];

function usd(input: number, output: number, cacheRead: number, cacheWrite: number): PricesDef {
  return {
    inputPerMTok: input,
    outputPerMTok: output,
    cacheReadPerMTok: cacheRead,
    cacheWritePerMTok: cacheWrite,
  };
}

/** The prices for `model`: the agent's own, else the list's; `null` when neither knows it. */
export function pricesFor(model: string | null, own: PricesDef | null): PricesDef | null {
  if (own !== null) {
    return own;
  }
  if (model === null) {
    return null;
  }
  const name = model.toLowerCase();
  let best: PricesDef | null = null;
  let bestLength = 0;
  for (const [prefix, prices] of LIST_PRICES) {
    if (name.startsWith(prefix) && prefix.length > bestLength) {
      best = prices;
      bestLength = prefix.length;
    }
  }
  return best;
}

/** USD for `tokens` at `prices`. */
export function costOf(tokens: TokenCounts, prices: PricesDef): number {
  return (
    (tokens.inputTokens * prices.inputPerMTok +
      tokens.outputTokens * prices.outputPerMTok +
      tokens.cacheReadTokens * prices.cacheReadPerMTok +
      tokens.cacheWriteTokens * prices.cacheWritePerMTok) /
    1_000_000
  );
}
