// Activation patterns -> one node, then activations -> the producing Conv/Gemm's
// epilogue (applied in registers, no second pass over memory).
import { attrFloat, Graph, Node } from '../ir';

function scalar(g: Graph, name: string | undefined): number | undefined {
  if (!name) return undefined;
  const t = g.constants.get(name);
  if (!t || t.dtype !== 'float32' || t.size !== 1) return undefined;
  return (t.data as Float32Array)[0];
}

/** Clip's bounds from attributes (opset < 11) or constant inputs; undefined when not constant. */
export function clipBounds(g: Graph, n: Node): [number, number] | undefined {
  if (n.inputs.length <= 1) return [attrFloat(n, 'min', -3.4028234663852886e38), attrFloat(n, 'max', 3.4028234663852886e38)];
  const lo = n.inputs[1] ? scalar(g, n.inputs[1]) : -Infinity;
  const hi = n.inputs[2] ? scalar(g, n.inputs[2]) : Infinity;
  if (lo === undefined || hi === undefined) return undefined;
  return [lo, hi];
}

function only(consumers: Map<string, Node[]>, g: Graph, value: string): Node | undefined {
  const c = consumers.get(value) ?? [];
  return c.length === 1 && !g.isGraphOutput(value) ? c[0] : undefined;
}

/**
 * x * clip(x + 3, 0, 6) / 6 (how exporters write HardSwish before opset 14)
 * -> HardSwish(x). Returns the number of patterns rewritten.
 */
export function matchHardSwish(g: Graph): number {
  let count = 0;
  let consumers = g.consumers();
  for (const add of [...g.nodes]) {
    if (add.opType !== 'Add' || add.domain !== '') continue;
    const ci = add.inputs.findIndex((i) => scalar(g, i) === 3);
    if (ci < 0) continue;
    const x = add.inputs[1 - ci];
    const clip = only(consumers, g, add.outputs[0]);
    if (!clip || clip.opType !== 'Clip') continue;
    const b = clipBounds(g, clip);
    if (!b || b[0] !== 0 || b[1] !== 6) continue;
    const mul = only(consumers, g, clip.outputs[0]);
    if (!mul || mul.opType !== 'Mul' || !mul.inputs.includes(x) || !mul.inputs.includes(clip.outputs[0])) continue;
    const div = only(consumers, g, mul.outputs[0]);
    if (!div) continue;
    const isDiv6 = div.opType === 'Div' && div.inputs[0] === mul.outputs[0] && scalar(g, div.inputs[1]) === 6;
    const isMulSixth = div.opType === 'Mul' && div.inputs.some((i) => Math.abs((scalar(g, i) ?? 0) - 1 / 6) < 1e-7);
    if (!isDiv6 && !isMulSixth) continue;
    const hs: Node = { name: `${div.name}#hardswish`, opType: 'HardSwish', domain: '', inputs: [x], outputs: [div.outputs[0]], attrs: {} };
    const at = g.nodes.indexOf(add);
    g.nodes = g.nodes.filter((n) => n !== add && n !== clip && n !== mul && n !== div);
    g.nodes.splice(Math.min(at, g.nodes.length), 0, hs);
    consumers = g.consumers();
    count++;
  }
  return count;
}

/** The epilogue an activation node gives its producer, if it can be fused. */
function epilogue(g: Graph, n: Node): Record<string, number | string> | undefined {
  if (n.domain !== '') return undefined;
  switch (n.opType) {
    case 'Relu': return { 'lowbit.activation': 'clip', 'lowbit.min': 0, 'lowbit.max': Infinity };
    case 'Clip': {
      const b = clipBounds(g, n);
      return b ? { 'lowbit.activation': 'clip', 'lowbit.min': b[0], 'lowbit.max': b[1] } : undefined;
    }
    case 'HardSwish': return { 'lowbit.activation': 'hardswish' };
    case 'HardSigmoid': return { 'lowbit.activation': 'hardsigmoid', 'lowbit.alpha': attrFloat(n, 'alpha', 0.2), 'lowbit.beta': attrFloat(n, 'beta', 0.5) };
    default: return undefined;
  }
}

const FUSES_INTO = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** Conv/Gemm/MatMul followed by a fusable activation (its only reader) -> one node. */
export function fuseActivations(g: Graph): number {
  let count = 0;
  const consumers = g.consumers();
  for (const n of [...g.nodes]) {
    if (n.domain !== '' || !FUSES_INTO.has(n.opType) || n.attrs['lowbit.activation'] !== undefined) continue;
    const act = only(consumers, g, n.outputs[0]);
    if (!act || act.inputs[0] !== n.outputs[0]) continue;
    const e = epilogue(g, act);
    if (!e) continue;
    Object.assign(n.attrs, e);
    n.outputs = [act.outputs[0]];
    g.nodes.splice(g.nodes.indexOf(act), 1);
    count++;
  }
  return count;
}

/** Drops nodes none of whose outputs is read or returned. */
export function removeDeadNodes(g: Graph): number {
  let removed = 0;
  for (;;) {
    const used = new Set<string>(g.outputs.map((o) => o.name));
    for (const n of g.nodes) for (const i of n.inputs) used.add(i);
    const keep = g.nodes.filter((n) => n.outputs.some((o) => o !== '' && used.has(o)));
    if (keep.length === g.nodes.length) break;
    removed += g.nodes.length - keep.length;
    g.nodes = keep;
  }
  for (const name of [...g.constants.keys()]) {
    if (!g.nodes.some((n) => n.inputs.includes(name)) && !g.isGraphOutput(name)) g.constants.delete(name);
  }
  return removed;
}
