// Graph -> ONNX ModelProto bytes (what the quantizer writes). Constants become
// initializers; attribute types are kept from import or inferred for new ones.
import { fail } from '../errors';
import { Tensor } from '../tensor/tensor';
import { AttrValue, Graph, Node, ValueInfo } from './ir';
import { onnx, onnxDataType, tensorToProto, tensorToProto4 } from './onnx';

const T = onnx.AttributeProto.AttributeType;

/** Attributes whose values are floats even when they happen to be whole numbers. */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'momentum', 'min', 'max', 'bias', 'lambd', 'value_float', 'cubic_coeff_a', 'extrapolation_value', 'ratio', 'scale', 'value_floats', 'scales']);

/** Float attributes of custom domains (docs/binary.md for 'ai.lowbit'), by domain. */
const DOMAIN_FLOAT_ATTRS: Record<string, Set<string>> = {
  'ai.lowbit': new Set(['alpha', 'beta', 'threshold', 'y_scale']),
};

/** Versions of the custom domains lowbit defines, written when a graph uses one without declaring it. */
const DOMAIN_VERSIONS: Record<string, number> = { 'ai.lowbit': 1 };

function attribute(n: Node, name: string, v: AttrValue): onnx.AttributeProto {
  const type = n.attrTypes?.[name] ?? (DOMAIN_FLOAT_ATTRS[n.domain]?.has(name) ? (Array.isArray(v) ? T.FLOATS : T.FLOAT) : undefined);
  if (v instanceof Tensor) return onnx.AttributeProto.create({ name, type: T.TENSOR, t: tensorToProto('', v) });
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: Buffer.from(v) });
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return onnx.AttributeProto.create({ name, type: T.STRINGS, strings: (v as string[]).map((x) => Buffer.from(x)) });
    const floats = type === T.FLOATS || (type === undefined && (FLOAT_ATTRS.has(name) || (v as number[]).some((x) => !Number.isInteger(x))));
    return floats ? onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v as number[] }) : onnx.AttributeProto.create({ name, type: T.INTS, ints: v as number[] });
  }
  const isFloat = type === T.FLOAT || (type === undefined && (FLOAT_ATTRS.has(name) || !Number.isInteger(v)));
  return isFloat ? onnx.AttributeProto.create({ name, type: T.FLOAT, f: v }) : onnx.AttributeProto.create({ name, type: T.INT, i: v });
}

function valueInfo(v: ValueInfo, int64: Set<string>): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: { tensorType: { elemType: int64.has(v.name) ? 7 : onnxDataType(v.dtype), shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

function int64Proto(name: string, t: Tensor): onnx.TensorProto {
  const data = new BigInt64Array(Array.from(t.data as Int32Array, (v) => BigInt(v)));
  return onnx.TensorProto.create({ name, dims: [...t.shape], dataType: 7, rawData: new Uint8Array(data.buffer) });
}

export interface ExportOptions {
  producer?: string;
  /**
   * Rename every inner value to a short id and drop node names (graph inputs
   * and outputs keep their names): names are a large part of a small model's file.
   */
  compactNames?: boolean;
  /** Kept as-is when the graph does not say otherwise. */
  irVersion?: number;
}

const all = (v: AttrValue | undefined, x: number) => Array.isArray(v) && (v as number[]).every((e) => e === x);

/** The shape of a constant, or of DequantizeLinear of a constant (QDQ weights). */
function constantShape(g: Graph, producers: Map<string, Node>, name: string | undefined): readonly number[] | undefined {
  if (!name) return undefined;
  const t = g.constants.get(name);
  if (t) return t.shape;
  const dq = producers.get(name);
  return dq && dq.opType === 'DequantizeLinear' && dq.domain === '' ? g.constants.get(dq.inputs[0])?.shape : undefined;
}

/**
 * A node's attributes without those that say what the ONNX default says (Conv's
 * unit strides and dilations, zero pads, one group, a kernel_shape equal to the
 * weights'; HardSigmoid's alpha 0.2 and beta 0.5): the same model in fewer bytes.
 */
function withoutDefaults(g: Graph, producers: Map<string, Node>, n: Node): Node['attrs'] {
  const a = { ...n.attrs };
  if (n.domain !== '') return a;
  if (n.opType === 'Conv') {
    if (all(a.strides, 1)) delete a.strides;
    if (all(a.dilations, 1)) delete a.dilations;
    if (all(a.pads, 0) && (a.auto_pad === undefined || a.auto_pad === 'NOTSET')) delete a.pads;
    if (a.group === 1) delete a.group;
    if (a.auto_pad === 'NOTSET') delete a.auto_pad;
    const w = constantShape(g, producers, n.inputs[1]);
    const ks = a.kernel_shape as number[] | undefined;
    if (w && ks && ks.length === w.length - 2 && ks.every((k, i) => k === w[i + 2])) delete a.kernel_shape;
  } else if (n.opType === 'HardSigmoid') {
    if (a.alpha === Math.fround(0.2)) delete a.alpha;
    if (a.beta === Math.fround(0.5)) delete a.beta;
  }
  return a;
}

/** Small constants with the same type, shape and bytes (zero points, shared scales): name -> the first such name. */
function duplicateConstants(g: Graph, keep: Set<string>): Map<string, string> {
  const first = new Map<string, string>(), same = new Map<string, string>();
  for (const [name, t] of g.constants) {
    const d = t.data as ArrayBufferView;
    if (d.byteLength > 64 || keep.has(name)) continue;
    const key = `${t.dtype}|${t.shape.join(',')}|${g.int64.has(name)}|${g.int4.has(name)}|${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex')}`;
    const f = first.get(key);
    if (f === undefined) first.set(key, name);
    else same.set(name, f);
  }
  return same;
}

function compacted(g: Graph): Graph {
  const keep = new Set([...g.inputs.map((v) => v.name), ...g.outputs.map((v) => v.name)]);
  const duplicates = duplicateConstants(g, keep);
  const names = new Map<string, string>();
  let next = 0;
  const rename = (n: string) => {
    if (n === '' || keep.has(n)) return n;
    n = duplicates.get(n) ?? n;
    let r = names.get(n);
    if (r === undefined) {
      r = next.toString(36);
      while (keep.has(r)) r = `_${r}`;
      names.set(n, r);
      next++;
    }
    return r;
  };
  const producers = g.producers();
  const nodes = g.nodes.map((n) => ({ ...n, name: '', inputs: n.inputs.map(rename), outputs: n.outputs.map(rename), attrs: withoutDefaults(g, producers, n) }));
  const constants = new Map([...g.constants].filter(([k]) => !duplicates.has(k)).map(([k, v]) => [rename(k), v] as const));
  const out = new Graph({ nodes, inputs: g.inputs, outputs: g.outputs, constants, opset: g.opset, domains: g.domains });
  out.int64 = new Set([...g.int64].map(rename));
  out.int4 = new Set([...g.int4].map(rename));
  return out;
}

export function exportModel(g: Graph, options: ExportOptions = {}): Uint8Array {
  for (const n of g.nodes) {
    for (const k of Object.keys(n.attrs)) if (k.startsWith('lowbit.')) fail('E_ARG', `exportModel: node '${n.name}' carries the runtime-only attribute '${k}'; export the graph before Session passes run`);
  }
  if (options.compactNames) g = compacted(g);
  const used = new Set<string>();
  for (const n of g.nodes) for (const i of n.inputs) used.add(i);
  for (const o of g.outputs) used.add(o.name);
  const graph = onnx.GraphProto.create({
    name: 'lowbit',
    node: g.nodes.map((n) => onnx.NodeProto.create({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attrs).map(([k, v]) => attribute(n, k, v)),
    })),
    input: g.inputs.map((v) => valueInfo(v, g.int64)),
    output: g.outputs.map((v) => valueInfo(v, g.int64)),
    initializer: [...g.constants].filter(([name]) => used.has(name)).map(([name, t]) => (g.int64.has(name) ? int64Proto(name, t) : g.int4.has(name) ? tensorToProto4(name, t) : tensorToProto(name, t))),
  });
  const domains = { ...g.domains };
  for (const n of g.nodes) if (domains[n.domain] === undefined && DOMAIN_VERSIONS[n.domain] !== undefined) domains[n.domain] = DOMAIN_VERSIONS[n.domain];
  const opsetImport = [{ domain: '', version: g.opset }, ...Object.entries(domains).map(([domain, version]) => ({ domain, version }))];
  const model = onnx.ModelProto.create({ irVersion: options.irVersion ?? 8, producerName: options.producer ?? 'lowbit', opsetImport, graph });
  return onnx.ModelProto.encode(model).finish();
}
