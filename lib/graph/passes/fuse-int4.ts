// Weight-only int4 models: DequantizeLinear(int4 constant weights, per channel
// or blocked along K) -> MatMul / Gemm becomes one lowbit.Int4MatMul, run by the
// int4-weight GEMM kernel straight from the packed nibbles (the weights are never
// expanded to float32).
import { Tensor } from '../../tensor/tensor';
import { attrFloat, attrInt, Graph, Node } from '../ir';

const BLOCK_SIZES = new Set([0, 32, 64, 128]);

/** The int4 weights, scales and layout behind a DequantizeLinear, or undefined if the kernel cannot run them. */
function int4Weights(g: Graph, dq: Node | undefined, kAxis: 0 | 1): { w: string; scales: Tensor; block: number } | undefined {
  if (!dq || dq.opType !== 'DequantizeLinear' || dq.domain !== '' || !g.int4.has(dq.inputs[0])) return undefined;
  const w = g.constants.get(dq.inputs[0]), s = g.constants.get(dq.inputs[1]);
  if (!w || w.dtype !== 'int8' || w.shape.length !== 2 || !s || s.dtype !== 'float32') return undefined;
  const zp = dq.inputs[2] ? g.constants.get(dq.inputs[2]) : undefined;
  if (dq.inputs[2] && (!zp || Array.prototype.some.call(zp.data, (v: number) => v !== 0))) return undefined;
  const block = attrInt(dq, 'block_size', 0);
  let axis = attrInt(dq, 'axis', 1);
  if (axis < 0) axis += 2;
  const n = w.shape[1 - kAxis];
  if (block === 0) {
    // Per tensor (one scale, spread over the channels) or per output channel.
    if (s.size === 1) return { w: dq.inputs[0], scales: new Tensor('float32', new Float32Array(n).fill((s.data as Float32Array)[0]), [n]), block };
    return axis === 1 - kAxis && s.size === n ? { w: dq.inputs[0], scales: new Tensor('float32', s.data as Float32Array, [n]), block } : undefined;
  }
  return BLOCK_SIZES.has(block) && axis === kAxis ? { w: dq.inputs[0], scales: s, block } : undefined;
}

export function fuseInt4MatMul(g: Graph): number {
  let count = 0;
  const producers = g.producers();
  for (const n of [...g.nodes]) {
    if (n.domain !== '' || (n.opType !== 'MatMul' && n.opType !== 'Gemm') || g.constants.has(n.inputs[0])) continue;
    const gemm = n.opType === 'Gemm';
    if (gemm && (attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1)) continue;
    const kAxis: 0 | 1 = gemm && attrInt(n, 'transB', 0) === 1 ? 1 : 0;
    const q = int4Weights(g, producers.get(n.inputs[1]), kAxis);
    if (!q) continue;
    const cols = g.constants.get(q.w)!.shape[1 - kAxis];
    const c = gemm && n.inputs[2] ? g.constants.get(n.inputs[2]) : undefined;
    if (gemm && n.inputs[2] && (!c || c.dtype !== 'float32' || c.size !== cols)) continue;
    const inputs = [n.inputs[0], q.w, `${n.name}#int4_scales`];
    g.constants.set(inputs[2], q.scales);
    if (c) {
      const beta = attrFloat(n, 'beta', 1);
      inputs.push(`${n.name}#int4_bias`);
      g.constants.set(inputs[3], new Tensor('float32', Float32Array.from(c.data as Float32Array, (v) => Math.fround(beta * v)), [cols]));
    }
    const fused: Node = {
      name: `${n.name}#int4`, opType: 'Int4MatMul', domain: 'lowbit', inputs, outputs: [n.outputs[0]],
      attrs: { 'lowbit.layout': kAxis === 1 ? 'nk' : 'kn', 'lowbit.block': q.block },
    };
    g.nodes.splice(g.nodes.indexOf(n), 1, fused);
    count++;
  }
  return count;
}
