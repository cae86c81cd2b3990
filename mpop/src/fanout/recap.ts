import { compressNodes } from '../inventory/names.js';
import { OUTCOMES, type FanoutResult, type Outcome } from './run.js';

/** RecapLine is one outcome of a run: how many nodes ended so, and which. */
export interface RecapLine {
  outcome: Outcome;
  count: number;
  nodes: string[];
  /** the nodes as ranges */
  label: string;
}

/** recap summarises a run per outcome (like Ansible's PLAY RECAP), leaving out outcomes no node had. */
export function recap(run: Pick<FanoutResult<unknown>, 'results'>): RecapLine[] {
  return OUTCOMES.map((outcome) => {
    const nodes = run.results.filter((r) => r.outcome === outcome).map((r) => r.node);
    return { outcome, count: nodes.length, nodes, label: compressNodes(nodes) };
  }).filter((l) => l.count > 0);
}
