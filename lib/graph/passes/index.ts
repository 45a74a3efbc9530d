// The graph passes a Session runs once at load, in order.
import type { Graph } from '../ir';
import { foldBatchNorm } from './fold-batchnorm';
import { fuseActivations, matchHardSwish, removeDeadNodes } from './fuse-activations';
import { fuseDynamicMatMul } from './fuse-dynamic';
import { fuseInt4MatMul } from './fuse-int4';
import { fuseQdq, fuseQuantizedElementwise, fuseQuantizedSelect, fuseQuantizedUnary } from './fuse-qdq';

export interface PassReport {
  deadNodes: number;
  batchNormsFolded: number;
  hardSwishMatched: number;
  activationsFused: number;
  qdqFused: number;
  lookupTables: number;
  qlinearElementwise: number;
  quantizedSelect: number;
  dynamicMatMuls: number;
  int4MatMuls: number;
}

export function optimize(g: Graph): PassReport {
  const deadNodes = removeDeadNodes(g);
  const batchNormsFolded = foldBatchNorm(g);
  const hardSwishMatched = matchHardSwish(g);
  const qdqFused = fuseQdq(g);
  const lookupTables = fuseQuantizedUnary(g);
  const qlinearElementwise = fuseQuantizedElementwise(g);
  const quantizedSelect = fuseQuantizedSelect(g);
  const dynamicMatMuls = fuseDynamicMatMul(g);
  const int4MatMuls = fuseInt4MatMul(g);
  const activationsFused = fuseActivations(g);
  removeDeadNodes(g);
  g.sortTopologically();
  return { deadNodes, batchNormsFolded, hardSwishMatched, activationsFused, qdqFused, lookupTables, qlinearElementwise, quantizedSelect, dynamicMatMuls, int4MatMuls };
}

export { foldBatchNorm, fuseActivations, matchHardSwish, removeDeadNodes, fuseQdq, fuseQuantizedUnary, fuseQuantizedElementwise, fuseQuantizedSelect, fuseDynamicMatMul, fuseInt4MatMul };
