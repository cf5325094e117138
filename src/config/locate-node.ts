/**
 * Finds where a dot path of the parsed value sits in the YAML text, so every issue can say
 * `file:line:col`.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";
import type { Path } from "./schema-issues.js";

/** A 1-based line and column in a text. */
export interface Position {
  line: number;
  col: number;
}

/**
 * @internal
 * The 1-based position of the node at `path`, or of its key when `atKey`. When the path goes
 * further than the document (a missing key), the deepest node that exists. `undefined` for an
 * empty document. Never throws.
 */
export function locateNode(
  doc: Document,
  lineCounter: LineCounter,
  path: Path,
  atKey = false,
): Position | undefined {
  let node = resolve(doc, doc.contents);
  let offset = node?.range?.[0];
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (pair === undefined) {
        break;
      }
      const keyOffset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      const value = resolve(doc, pair.value);
      if ((last && atKey) || value === null || isEmpty(value)) {
        // An empty value has no text of its own: point at its key.
        offset = keyOffset ?? offset;
        break;
      }
      node = value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = resolve(doc, node.items[segment]);
      if (item === null) {
        break;
      }
      node = item;
    } else {
      break;
    }
    offset = node.range?.[0] ?? offset;
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

function resolve(doc: Document, value: unknown): Node | null {
  if (isAlias(value)) {
    return value.resolve(doc) ?? null;
  }
  return isMap(value) || isSeq(value) || isScalar(value) ? value : null;
}

function isEmpty(node: Node): boolean {
  return isScalar(node) && node.value === null && node.source === "";
}
