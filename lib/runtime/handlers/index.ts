// ONNX op -> handler. A handler infers the outputs' shapes and layouts and adds
// the kernel call (or an alias, or a plan-time constant) to the plan.
import type { Node } from '../../graph/ir';
import type { Handler } from '../planner';
import { binaryHandlers, BINARY_DOMAIN } from './binary';
import { convHandlers, lowbitConvHandlers } from './conv';
import { elementwiseHandlers, gatherData } from './elementwise';
import { qelementwiseHandlers } from './qelementwise';
import { dynamicMatMul, int4MatMul, lut8, quantHandlers } from './quant';
import { shapeHandlers } from './shape';

const DEFAULT_DOMAIN: Record<string, Handler> = {
  ...shapeHandlers,
  ...quantHandlers,
  ...convHandlers,
  ...elementwiseHandlers,
  // Gather: plan-time arithmetic on constants (shape subgraphs), a kernel otherwise.
  Gather: (p, node, inputs) => (inputs.every((v) => v?.constant) ? shapeHandlers.Gather(p, node, inputs) : gatherData(p, node, inputs)),
};

/** Nodes the graph passes create (not in any model file). */
const LOWBIT_DOMAIN: Record<string, Handler> = {
  Lut8: lut8,
  DynamicMatMul: dynamicMatMul,
  Int4MatMul: int4MatMul,
  ...lowbitConvHandlers,
  ...qelementwiseHandlers,
};

/** onnxruntime's contrib ops (QOperator models). */
const MICROSOFT_DOMAIN: Record<string, Handler> = {
  ...qelementwiseHandlers,
};

/** Binary layers as model files store them (docs/binary.md). */
const AI_LOWBIT_DOMAIN: Record<string, Handler> = binaryHandlers;

export function handlerFor(node: Node): Handler | undefined {
  const table = node.domain === '' ? DEFAULT_DOMAIN : node.domain === 'lowbit' ? LOWBIT_DOMAIN
    : node.domain === BINARY_DOMAIN ? AI_LOWBIT_DOMAIN : node.domain === 'com.microsoft' ? MICROSOFT_DOMAIN : undefined;
  return table && Object.prototype.hasOwnProperty.call(table, node.opType) ? table[node.opType] : undefined;
}

export function supportedOps(): string[] {
  return Object.keys(DEFAULT_DOMAIN).sort();
}
