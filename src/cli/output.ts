/**
 * Everything the CLI prints goes through here: plain lines, tables, JSON, colours. Colour only
 * on a terminal and never when `NO_COLOR` is set.
 */
import { styleText } from "node:util";

export type Format = "table" | "json";

type Colour = "bold" | "dim" | "red" | "green" | "yellow" | "cyan" | "magenta" | "gray";

export interface Output {
  readonly color: boolean;
  readonly isTTY: boolean;
  line(text?: string): void;
  /** Writes text as is, without adding a newline. */
  raw(text: string): void;
  error(text: string): void;
  json(value: unknown): void;
  table(rows: readonly object[], columns: readonly { key: string; header: string }[]): void;
  paint(colour: Colour, text: string): string;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) {
    return "-";
  }
  if (Array.isArray(value)) {
    return value.map(cell).join(",");
  }
  if (typeof value === "string") {
    return value;
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  return JSON.stringify(value);
}

export function createOutput(options: { noColor: boolean }): Output {
  const isTTY = process.stdout.isTTY;
  const color = isTTY && !options.noColor;
  return {
    color,
    isTTY,
    line: (text = "") => {
      console.log(text);
    },
    raw: (text) => {
      process.stdout.write(text);
    },
    error: (text) => {
      console.error(text);
    },
    json: (value) => {
      console.log(JSON.stringify(value, null, 2));
    },
    table: (rows, columns) => {
      if (rows.length === 0) {
        console.log("(none)");
        return;
      }
      const cells = rows.map((row) =>
        columns.map((c) => cell((row as Record<string, unknown>)[c.key])),
      );
      const widths = columns.map((c, i) =>
        Math.max(c.header.length, ...cells.map((r) => (r[i] ?? "").length)),
      );
      const render = (values: string[]): string =>
        values
          .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd();
      const header = render(columns.map((c) => c.header.toUpperCase()));
      console.log(color ? styleText("bold", header) : header);
      for (const row of cells) {
        console.log(render(row));
      }
    },
    paint: (colour, text) => (color ? styleText(colour, text) : text),
  };
}
