// The graph passes a Session runs once at load, in order.
import type { Graph } from '../ir';
import { foldBatchNorm } from './fold-batchnorm';
import { fuseActivations, matchHardSwish, removeDeadNodes } from './fuse-activations';
import { fuseQdq, fuseQuantizedUnary } from './fuse-qdq';

export interface PassReport {
  deadNodes: number;
  batchNormsFolded: number;
  hardSwishMatched: number;
  activationsFused: number;
  qdqFused: number;
  lookupTables: number;
}

export function optimize(g: Graph): PassReport {
  const deadNodes = removeDeadNodes(g);
  const batchNormsFolded = foldBatchNorm(g);
  const hardSwishMatched = matchHardSwish(g);
  const qdqFused = fuseQdq(g);
  const lookupTables = fuseQuantizedUnary(g);
  const activationsFused = fuseActivations(g);
  removeDeadNodes(g);
  g.sortTopologically();
  return { deadNodes, batchNormsFolded, hardSwishMatched, activationsFused, qdqFused, lookupTables };
}

export { foldBatchNorm, fuseActivations, matchHardSwish, removeDeadNodes, fuseQdq, fuseQuantizedUnary };
