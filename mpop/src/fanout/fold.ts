import { compressNodes, naturalCompare } from '../inventory/names.js';

/** Folded is one distinct output and the nodes that gave it. */
export interface Folded {
  nodes: string[];
  /** the nodes written as ranges: web[1-3,7] */
  label: string;
  text: string;
}

/**
 * fold groups identical outputs, as `clush -b` and `dshbak -c` do: one entry per distinct text, headed
 * by the nodes that gave it, the largest group first (ties in node order).
 */
export function fold(outputs: { node: string; text: string }[]): Folded[] {
  const byText = new Map<string, string[]>();
  for (const { node, text } of outputs) (byText.get(text) ?? byText.set(text, []).get(text)!).push(node);
  return [...byText.entries()]
    .map(([text, nodes]) => {
      const sorted = nodes.sort(naturalCompare);
      return { nodes: sorted, label: compressNodes(sorted), text };
    })
    .sort((a, b) => b.nodes.length - a.nodes.length || naturalCompare(a.nodes[0]!, b.nodes[0]!));
}
