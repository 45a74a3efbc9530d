// Whether a graph treats the items of a batch (axis 0 of every input)
// independently, so that a run over a batch may be split into runs over parts of
// it, one per thread, with the same result. Small layers split badly across
// threads inside one kernel call; whole sub-batches on separate cores do not.
//
// Conservative: an op is accepted only when its semantics keep batch items
// apart — elementwise ops, convolutions and pooling (N is independent), matrix
// products with constant weights, and ops whose axis is not 0. Dynamic
// quantization is refused: its scale comes from the whole tensor, so a part of
// the batch would get other scales than the whole.
import { attrInt, attrInts, Graph, Node } from '../graph/ir';

const PER_ITEM = new Set([
  // elementwise (any broadcasting against constants or against values with the batch on axis 0)
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Exp', 'Log',
  'Abs', 'Neg', 'Erf', 'LeakyRelu', 'Elu', 'Softplus', 'PRelu', 'Max', 'Min', 'Sum', 'Floor', 'Ceil', 'Round',
  'Reciprocal', 'Cast', 'Identity', 'Dropout', 'Gelu', 'Where', 'Equal', 'Less', 'Greater', 'Not', 'And', 'Or',
  // per-item spatial ops
  'Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool',
  'BatchNormalization', 'LRN', 'InstanceNormalization', 'QLinearAdd', 'QLinearMul', 'QLinearGlobalAveragePool',
  // quantization with fixed parameters, table lookups, binary layers
  'QuantizeLinear', 'DequantizeLinear', 'Lut8', 'BinaryConv', 'BinaryGemm',
  // shape arithmetic: planned per run shape
  'Shape', 'Constant', 'ConstantOfShape', 'Range', 'Size',
]);

/** Products whose second operand must be constant (rows of A are batch items). */
const MATRIX = new Set(['MatMul', 'Gemm', 'MatMulInteger', 'QLinearMatMul', 'Int4MatMul']);

/** Ops with an `axis` attribute that must not be 0 (default in brackets). */
const AXIS_OPS: Record<string, number> = {
  Softmax: -1, LogSoftmax: -1, LayerNormalization: -1, Concat: 0, Split: 0, Gather: 0, Flatten: 1, Hardmax: -1,
};

const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare', 'ArgMax', 'ArgMin']);

function constInts(g: Graph, name: string | undefined): number[] | undefined {
  const t = name ? g.constants.get(name) : undefined;
  return t ? Array.from(t.data as ArrayLike<number>, Number) : undefined;
}

function nodeKeepsItemsApart(g: Graph, n: Node, shapeValues: Set<string>): boolean {
  // Arithmetic on shapes and constants only: evaluated while planning each part.
  if (n.inputs.every((i) => i === '' || g.constants.has(i) || shapeValues.has(i))) return true;
  const op = n.opType;
  if (op === 'DynamicQuantizeLinear' || op === 'DynamicMatMul') return false;
  if (PER_ITEM.has(op)) return true;
  if (MATRIX.has(op)) {
    if (op === 'Gemm' && attrInt(n, 'transA', 0) !== 0) return false;
    const b = op === 'QLinearMatMul' ? n.inputs[3] : n.inputs[1];
    return g.constants.has(b);
  }
  if (op in AXIS_OPS) {
    if (op === 'Gather' && g.constants.has(n.inputs[0])) return true; // a lookup table indexed per item
    const axis = attrInt(n, 'axis', AXIS_OPS[op]);
    return axis >= 1 || axis === -1;
  }
  if (REDUCE.has(op)) {
    const axes = n.attrs.axes !== undefined ? attrInts(n, 'axes') : constInts(g, n.inputs[1]);
    return axes !== undefined && axes.length > 0 && axes.every((a) => a >= 1 || a === -1);
  }
  if (op === 'Transpose') {
    const perm = n.attrs.perm !== undefined ? attrInts(n, 'perm') : undefined;
    return perm !== undefined && perm[0] === 0;
  }
  if (op === 'Squeeze' || op === 'Unsqueeze') {
    const axes = n.attrs.axes !== undefined ? attrInts(n, 'axes') : constInts(g, n.inputs[1]);
    return axes !== undefined && axes.every((a) => a >= 1);
  }
  if (op === 'Reshape') {
    // Batch kept as axis 0: a constant shape starting with 0 (copy) or the
    // exporters' Shape -> Slice/Gather -> Concat subgraph (a shape value).
    const shape = constInts(g, n.inputs[1]);
    return shape !== undefined ? shape[0] === 0 : shapeValues.has(n.inputs[1]);
  }
  if (op === 'Pad') {
    const pads = n.attrs.pads !== undefined ? attrInts(n, 'pads') : constInts(g, n.inputs[1]);
    return pads !== undefined && pads[0] === 0 && pads[pads.length / 2] === 0;
  }
  if (op === 'Slice') {
    const axes = constInts(g, n.inputs[3]);
    return axes !== undefined && axes.every((a) => a >= 1);
  }
  return false;
}

/** True when every node of the graph keeps batch items apart. */
export function batchIndependent(g: Graph): boolean {
  // Values computed from Shape (and constants) only.
  const shapeValues = new Set<string>();
  for (const n of g.nodes) {
    const fromShapes = n.opType === 'Shape' || n.opType === 'Size'
      || (n.inputs.length > 0 && n.inputs.every((i) => i === '' || g.constants.has(i) || shapeValues.has(i)));
    if (fromShapes) n.outputs.forEach((o) => shapeValues.add(o));
  }
  return g.nodes.every((n) => nodeKeepsItemsApart(g, n, shapeValues));
}
