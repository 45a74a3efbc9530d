// Dynamic-quantization graphs (lowbit's quantizeDynamic and onnxruntime's
// quantize_dynamic write the same shape):
//   DynamicQuantizeLinear(x) -> (xq, xs, xz)
//   MatMulInteger(xq, Wq, xz[, 0]) -> Cast(float) -> Mul(., Mul(xs, Ws)) [-> Add(., bias)]
// become one lowbit.DynamicMatMul(x, Wq, Ws[, bias]): x quantized, multiplied
// by the int8 weights and scaled back to float32 in one native step.
import { Graph, Node } from '../ir';

function onlyConsumer(g: Graph, consumers: Map<string, Node[]>, value: string): Node | undefined {
  const c = consumers.get(value) ?? [];
  return c.length === 1 && !g.isGraphOutput(value) ? c[0] : undefined;
}

/** The input of a two-input node that is not `value`, or undefined if `value` is not one of them. */
function other(n: Node, value: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  if (n.inputs[0] === value) return n.inputs[1];
  if (n.inputs[1] === value) return n.inputs[0];
  return undefined;
}

function isZeros(g: Graph, name: string | undefined): boolean {
  if (name === undefined || name === '') return true;
  const t = g.constants.get(name);
  return t !== undefined && Array.prototype.every.call(t.data, (v: number) => v === 0);
}

export function fuseDynamicMatMul(g: Graph): number {
  let count = 0;
  let consumers = g.consumers();
  const producers = g.producers();
  for (const dql of [...g.nodes]) {
    if (dql.domain !== '' || dql.opType !== 'DynamicQuantizeLinear') continue;
    const [xq, xs, xz] = dql.outputs;
    const mm = onlyConsumer(g, consumers, xq);
    if (!mm || mm.domain !== '' || mm.opType !== 'MatMulInteger' || mm.inputs[0] !== xq || mm.inputs[2] !== xz) continue;
    const w = g.constants.get(mm.inputs[1]);
    if (!w || w.dtype !== 'int8' || w.shape.length !== 2 || !isZeros(g, mm.inputs[3])) continue;
    if ((consumers.get(xz) ?? []).length !== 1 || g.isGraphOutput(xz)) continue;
    const cast = onlyConsumer(g, consumers, mm.outputs[0]);
    if (!cast || cast.opType !== 'Cast' || cast.attrs.to !== 1) continue;
    const mul = onlyConsumer(g, consumers, cast.outputs[0]);
    const scaleName = mul && mul.opType === 'Mul' ? other(mul, cast.outputs[0]) : undefined;
    const scaleMul = scaleName !== undefined ? producers.get(scaleName) : undefined;
    if (!mul || !scaleMul || scaleMul.opType !== 'Mul' || onlyConsumer(g, consumers, scaleName!) !== mul) continue;
    const wsName = other(scaleMul, xs);
    const ws = wsName !== undefined ? g.constants.get(wsName) : undefined;
    const n = w.shape[1];
    if (!ws || ws.dtype !== 'float32' || (ws.size !== 1 && !(ws.size === n && ws.shape[ws.shape.length - 1] === n))) continue;
    if ((consumers.get(xs) ?? []).length !== 1 || g.isGraphOutput(xs)) continue;
    // An optional bias: Add of a constant [N] vector.
    let output = mul.outputs[0];
    let bias = '';
    const add = onlyConsumer(g, consumers, output);
    const biasName = add && add.opType === 'Add' ? other(add, output) : undefined;
    const b = biasName !== undefined ? g.constants.get(biasName) : undefined;
    if (add && b && b.dtype === 'float32' && b.size === n && b.shape[b.shape.length - 1] === n) {
      bias = biasName!;
      output = add.outputs[0];
    }
    const fused: Node = {
      name: `${mm.name}#dynamic`, opType: 'DynamicMatMul', domain: 'lowbit',
      inputs: bias ? [dql.inputs[0], mm.inputs[1], wsName!, bias] : [dql.inputs[0], mm.inputs[1], wsName!],
      outputs: [output], attrs: {},
    };
    const gone = new Set<Node>([dql, mm, cast, mul, scaleMul]);
    if (bias) gone.add(add!);
    g.nodes.splice(g.nodes.indexOf(dql), 1, fused);
    g.nodes = g.nodes.filter((x) => !gone.has(x));
    consumers = g.consumers();
    count++;
  }
  return count;
}
