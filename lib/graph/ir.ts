// The graph IR the passes and the runtime work on: plain nodes over named
// values, constants as Tensors. Small on purpose: ONNX semantics, no layout.
import { fail } from '../errors';
import type { DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';

export type AttrValue = number | string | number[] | string[] | Tensor;

export interface Node {
  name: string;
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  /** Value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** ONNX AttributeType of each imported attribute (an int and a float look alike in JS). */
  attrTypes?: Record<string, number>;
}

/** A graph input or output: element type and shape, a string for a symbolic dimension. */
export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

export class Graph {
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Initializers and folded constants, by value name. */
  constants: Map<string, Tensor>;
  /** Default-domain opset version. */
  opset: number;
  /** Other domains' versions (e.g. 'ai.lowbit'). */
  domains: Record<string, number>;
  /** Values the model declared int64 (carried as int32 here; written back as int64). */
  int64: Set<string> = new Set();
  /** Constants the model stores as 4-bit INT4/UINT4 (carried as int8/uint8 values; written back packed). */
  int4: Set<string> = new Set();

  constructor(init: { nodes: Node[]; inputs: ValueInfo[]; outputs: ValueInfo[]; constants?: Map<string, Tensor>; opset: number; domains?: Record<string, number> }) {
    this.nodes = init.nodes;
    this.inputs = init.inputs;
    this.outputs = init.outputs;
    this.constants = init.constants ?? new Map();
    this.opset = init.opset;
    this.domains = init.domains ?? {};
  }

  /**
   * A deep copy that passes may change without touching this graph: what an
   * export/import round trip gives, without encoding and decoding the protobuf
   * (constants are copied; quantization parameters, which ONNX does not carry, are not).
   */
  clone(): Graph {
    const tensor = (t: Tensor) => new Tensor(t.dtype, t.data.slice() as never, [...t.shape]);
    const attr = (v: AttrValue): AttrValue => (v instanceof Tensor ? tensor(v) : Array.isArray(v) ? ([...v] as AttrValue) : v);
    const info = (v: ValueInfo): ValueInfo => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] });
    const g = new Graph({
      nodes: this.nodes.map((n) => ({
        name: n.name, opType: n.opType, domain: n.domain, inputs: [...n.inputs], outputs: [...n.outputs],
        attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, attr(v)])),
        ...(n.attrTypes ? { attrTypes: { ...n.attrTypes } } : {}),
      })),
      inputs: this.inputs.map(info),
      outputs: this.outputs.map(info),
      constants: new Map([...this.constants].map(([k, t]) => [k, tensor(t)])),
      opset: this.opset,
      domains: { ...this.domains },
    });
    g.int64 = new Set(this.int64);
    g.int4 = new Set(this.int4);
    return g;
  }

  /** The node producing each value. */
  producers(): Map<string, Node> {
    const m = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.outputs) if (o !== '') m.set(o, n);
    return m;
  }

  /** The nodes reading each value (a node reading it twice appears twice). */
  consumers(): Map<string, Node[]> {
    const m = new Map<string, Node[]>();
    for (const n of this.nodes) {
      for (const i of n.inputs) {
        if (i === '') continue;
        const list = m.get(i);
        if (list) list.push(n);
        else m.set(i, [n]);
      }
    }
    return m;
  }

  isGraphOutput(name: string): boolean {
    return this.outputs.some((o) => o.name === name);
  }

  /** Renames every use of value `from` to `to` (nodes and graph outputs keep their own names). */
  replaceUses(from: string, to: string): void {
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
  }

  /** Orders nodes so each comes after the producers of its inputs; fails on a cycle or an undefined value. */
  sortTopologically(): void {
    const known = new Set<string>([...this.inputs.map((i) => i.name), ...this.constants.keys(), '']);
    const pending = [...this.nodes];
    const sorted: Node[] = [];
    const producer = this.producers();
    while (pending.length > 0) {
      const before = sorted.length;
      for (let i = 0; i < pending.length; ) {
        const n = pending[i];
        if (n.inputs.every((x) => known.has(x))) {
          sorted.push(n);
          for (const o of n.outputs) known.add(o);
          pending.splice(i, 1);
        } else {
          i++;
        }
      }
      if (sorted.length === before) {
        const n = pending[0];
        const missing = n.inputs.filter((x) => !known.has(x));
        const why = missing.every((x) => producer.has(x)) ? 'a cycle' : 'values no node produces';
        fail('E_MODEL_INVALID', `node '${n.name}' (${n.opType}) reads ${missing.map((x) => `'${x}'`).join(', ')}: ${why}`);
      }
    }
    this.nodes = sorted;
  }
}

// ---- attribute access with errors that name the node ----------------------------

export function describeNode(n: Node): string {
  return `node '${n.name}' (${n.domain ? `${n.domain}.` : ''}${n.opType})`;
}

export function attrInt(n: Node, name: string, def?: number): number {
  const v = n.attrs[name];
  if (v === undefined) {
    if (def === undefined) fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' is required`);
    return def;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' must be an integer`);
  return v;
}

export function attrFloat(n: Node, name: string, def?: number): number {
  const v = n.attrs[name];
  if (v === undefined) {
    if (def === undefined) fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' is required`);
    return def;
  }
  if (typeof v !== 'number') fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' must be a number`);
  return v;
}

export function attrInts(n: Node, name: string, def?: number[]): number[] {
  const v = n.attrs[name];
  if (v === undefined) {
    if (def === undefined) fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' is required`);
    return def;
  }
  if (typeof v === 'number') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' must be a list of integers`);
  return v as number[];
}

export function attrString(n: Node, name: string, def?: string): string {
  const v = n.attrs[name];
  if (v === undefined) {
    if (def === undefined) fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' is required`);
    return def;
  }
  if (typeof v !== 'string') fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' must be a string`);
  return v;
}

export function attrTensor(n: Node, name: string): Tensor | undefined {
  const v = n.attrs[name];
  if (v === undefined) return undefined;
  if (!(v instanceof Tensor)) fail('E_MODEL_INVALID', `${describeNode(n)}: attribute '${name}' must be a tensor`);
  return v;
}
