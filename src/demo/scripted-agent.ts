/**
 * The demo's agent. It is scripted, not a model: it reads which stage and fix round it is in
 * from Baton's environment and edits the demo repository the way a real agent might, getting
 * the fix wrong once so the test gate fails and a fix round follows.
 *
 * Usage (from baton.yaml): node scripted-agent.js {prompt_file}
 */
import { readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const PARTIAL_FIX = `/** The middle value of a list of numbers. */
export function median(values) {
  if (values.length === 0) {
    throw new RangeError("median of an empty list");
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
`;

const FULL_FIX = `/** The middle value of a list of numbers; the mean of the two middle ones for even lengths. */
export function median(values) {
  if (values.length === 0) {
    throw new RangeError("median of an empty list");
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 0 ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[mid];
}
`;

function say(text: string): void {
  process.stdout.write(`[demo agent] ${text}\n`);
}

async function main(): Promise<void> {
  const stage = process.env.BATON_STAGE ?? "";
  const fixRound = Number(process.env.BATON_FIX_ROUND ?? "0");
  const promptFile = process.argv[2];
  const prompt = promptFile === undefined ? "" : readFileSync(promptFile, "utf8");
  say("This is Baton's scripted demo agent, not a model: it follows a fixed script.");
  say(`stage ${stage}, fix round ${fixRound}; prompt has ${prompt.length} characters`);
  await sleep(400);
  switch (stage) {
    case "plan":
      writeFileSync(
        "PLAN.md",
        "# Plan\n\n1. `median` in src/stats.js does not sort its input: sort a copy first.\n" +
          "2. Even-length lists need the mean of the two middle values.\n3. Run the tests.\n",
      );
      say("wrote PLAN.md");
      return;
    case "implement":
      if (fixRound === 0) {
        writeFileSync("src/stats.js", PARTIAL_FIX);
        say("sorted the input in src/stats.js (forgot the even-length case)");
      } else {
        const sawFailure = prompt.includes("even length");
        say(
          sawFailure
            ? "the failing test says 'even length'; averaging the two middle values"
            : "fixing the even-length case",
        );
        writeFileSync("src/stats.js", FULL_FIX);
      }
      return;
    case "review":
      writeFileSync(
        "REVIEW.md",
        "# Review\n\n`median` now sorts a copy and handles even lengths; tests cover empty, odd and even lists.\nApproved.\n",
      );
      say("wrote REVIEW.md: approved");
      return;
    default:
      say(`nothing scripted for stage ${stage}`);
  }
}

await main();
