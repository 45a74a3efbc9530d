// The graph passes a Session runs once at load, in order.
import type { Graph } from '../ir';
import { foldBatchNorm } from './fold-batchnorm';
import { fuseActivations, matchHardSwish, removeDeadNodes } from './fuse-activations';
import { fuseQdq, fuseQuantizedElementwise, fuseQuantizedUnary } from './fuse-qdq';

export interface PassReport {
  deadNodes: number;
  batchNormsFolded: number;
  hardSwishMatched: number;
  activationsFused: number;
  qdqFused: number;
  lookupTables: number;
  qlinearElementwise: number;
}

export function optimize(g: Graph): PassReport {
  const deadNodes = removeDeadNodes(g);
  const batchNormsFolded = foldBatchNorm(g);
  const hardSwishMatched = matchHardSwish(g);
  const qdqFused = fuseQdq(g);
  const lookupTables = fuseQuantizedUnary(g);
  const qlinearElementwise = fuseQuantizedElementwise(g);
  const activationsFused = fuseActivations(g);
  removeDeadNodes(g);
  g.sortTopologically();
  return { deadNodes, batchNormsFolded, hardSwishMatched, activationsFused, qdqFused, lookupTables, qlinearElementwise };
}

export { foldBatchNorm, fuseActivations, matchHardSwish, removeDeadNodes, fuseQdq, fuseQuantizedUnary, fuseQuantizedElementwise };
