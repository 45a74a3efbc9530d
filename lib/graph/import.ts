// ONNX ModelProto -> Graph: attributes decoded, initializers and Constant nodes as
// Tensors, external data files read from the model's folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors';
import { isDType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';
import { AttrValue, Graph, Node, ValueInfo } from './ir';
import { decodeModel, onnx, ONNX_DTYPE_NAMES, tensorFromProto } from './onnx';

export interface ImportOptions {
  /** Folder that external data paths are relative to (the model file's folder). */
  baseDir?: string;
}

type Long = { toNumber(): number };
function num(v: number | Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Reads a tensor's external data (location/offset/length) into rawData. */
function resolveExternal(t: onnx.ITensorProto, baseDir: string | undefined): onnx.ITensorProto {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return t;
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) fail('E_MODEL_INVALID', `initializer '${t.name}': external data has no location`);
  if (baseDir === undefined) fail('E_MODEL_INVALID', `initializer '${t.name}' keeps its data in '${location}': load the model from its file path so the data can be found`);
  const file = path.resolve(baseDir, location);
  const rel = path.relative(path.resolve(baseDir), file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) fail('E_MODEL_INVALID', `initializer '${t.name}': external data path '${location}' leaves the model's folder`);
  const offset = Number(entries.get('offset') ?? 0);
  let bytes: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = entries.has('length') ? Number(entries.get('length')) : size - offset;
      if (!(offset >= 0 && length >= 0 && offset + length <= size)) fail('E_MODEL_INVALID', `initializer '${t.name}': external data range ${offset}+${length} passes the end of '${location}' (${size} bytes)`);
      bytes = Buffer.alloc(length);
      fs.readSync(fd, bytes, 0, length, offset);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'E_MODEL_INVALID') throw err;
    fail('E_MODEL_INVALID', `initializer '${t.name}': cannot read external data '${location}': ${(err as Error).message}`);
  }
  return { ...t, dataLocation: onnx.TensorProto.DataLocation.DEFAULT, rawData: bytes, externalData: [] };
}

function attribute(a: onnx.IAttributeProto, node: string, baseDir: string | undefined): AttrValue | undefined {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.FLOAT: return a.f ?? 0;
    case T.INT: return num(a.i as number | Long);
    case T.STRING: return Buffer.from(a.s ?? new Uint8Array()).toString('utf8');
    case T.TENSOR: return a.t ? tensorFromProto(resolveExternal(a.t, baseDir), `${node}.${a.name}`) : undefined;
    case T.FLOATS: return [...(a.floats ?? [])];
    case T.INTS: return (a.ints ?? []).map((v) => num(v as number | Long));
    case T.STRINGS: return (a.strings ?? []).map((s) => Buffer.from(s).toString('utf8'));
    default: return undefined; // graphs, sparse tensors, types: the op check reports them if they matter
  }
}

function valueInfo(v: onnx.IValueInfoProto, what: string): ValueInfo {
  const tt = v.type?.tensorType;
  if (!tt) fail('E_UNSUPPORTED', `${what} '${v.name}' is not a tensor (sequences, maps and optionals are not supported)`);
  const name = ONNX_DTYPE_NAMES[tt.elemType ?? 0] ?? `type ${tt.elemType}`;
  const dtype = name === 'int64' ? 'int32' : name; // int64 tensors are carried as int32 (values are checked)
  if (!isDType(dtype)) fail('E_UNSUPPORTED', `${what} '${v.name}' has element type ${name}; lowbit runs float32, uint8, int8, int32/int64`);
  const shape = (tt.shape?.dim ?? []).map((d, i) => {
    if (d.dimValue !== null && d.dimValue !== undefined && (typeof d.dimValue === 'number' || num(d.dimValue as Long) > 0 || d.dimParam === '')) {
      const n = num(d.dimValue as number | Long);
      if (n > 0 || !d.dimParam) return n > 0 ? n : (d.dimParam || `${v.name}_dim${i}`);
    }
    return d.dimParam || `${v.name}_dim${i}`;
  });
  return { name: v.name ?? '', dtype, shape };
}

export function importModel(bytes: Uint8Array, options: ImportOptions = {}): Graph {
  if (!(bytes instanceof Uint8Array)) fail('E_ARG', 'the model must be a path or bytes (Uint8Array)');
  if (bytes.length === 0) fail('E_MODEL_INVALID', 'the model is empty (0 bytes)');
  const model = decodeModel(bytes);
  const g = model.graph;
  if (!g) fail('E_MODEL_INVALID', 'the model has no graph');
  let opset = 0;
  const domains: Record<string, number> = {};
  for (const o of model.opsetImport ?? []) {
    const v = num(o.version as number | Long);
    if (!o.domain || o.domain === 'ai.onnx') opset = v;
    else domains[o.domain] = v;
  }
  if (opset === 0) fail('E_MODEL_INVALID', 'the model imports no default-domain opset');
  if (opset < 9) fail('E_UNSUPPORTED', `opset ${opset} is older than lowbit supports (9 and later); convert the model with onnx.version_converter`);

  const constants = new Map<string, Tensor>();
  const int64 = new Set<string>();
  const int4 = new Set<string>();
  for (const t of g.initializer ?? []) {
    if (!t.name) fail('E_MODEL_INVALID', 'an initializer has no name');
    constants.set(t.name, tensorFromProto(resolveExternal(t, options.baseDir), `initializer '${t.name}'`));
    if (t.dataType === 7) int64.add(t.name);
    if (t.dataType === 21 || t.dataType === 22) int4.add(t.name);
  }
  const nodes: Node[] = [];
  (g.node ?? []).forEach((n, i) => {
    const name = n.name || `${n.opType}_${i}`;
    if (!n.opType) fail('E_MODEL_INVALID', `node ${i} has no op type`);
    const attrs: Record<string, AttrValue> = {};
    const attrTypes: Record<string, number> = {};
    for (const a of n.attribute ?? []) {
      const v = attribute(a, name, options.baseDir);
      if (v !== undefined && a.name) {
        attrs[a.name] = v;
        attrTypes[a.name] = a.type ?? 0;
      }
    }
    const domain = n.domain === 'ai.onnx' ? '' : n.domain ?? '';
    // Constant nodes become constants right away.
    if (domain === '' && n.opType === 'Constant' && (n.output ?? []).length === 1) {
      const value = attrs.value;
      if (value instanceof Tensor) {
        constants.set(n.output![0], value);
        if (n.attribute?.find((a) => a.name === 'value')?.t?.dataType === 7) int64.add(n.output![0]);
        return;
      }
      const scalar = attrs.value_float ?? attrs.value_int ?? attrs.value_floats ?? attrs.value_ints;
      if (scalar !== undefined) {
        const isFloat = attrs.value_float !== undefined || attrs.value_floats !== undefined;
        const vals = Array.isArray(scalar) ? (scalar as number[]) : [scalar as number];
        const shape = Array.isArray(scalar) ? [vals.length] : [];
        constants.set(n.output![0], isFloat ? new Tensor('float32', Float32Array.from(vals), shape) : new Tensor('int32', Int32Array.from(vals), shape));
        if (!isFloat) int64.add(n.output![0]);
        return;
      }
      fail('E_UNSUPPORTED', `node '${name}' (Constant): only tensor, float(s) and int(s) values are supported`);
    }
    nodes.push({ name, opType: n.opType, domain, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs, attrTypes });
  });
  const inputs = (g.input ?? []).filter((v) => !constants.has(v.name ?? '')).map((v) => valueInfo(v, 'input'));
  const outputs = (g.output ?? []).map((v) => valueInfo(v, 'output'));
  if (outputs.length === 0) fail('E_MODEL_INVALID', 'the graph has no outputs');
  const graph = new Graph({ nodes, inputs, outputs, constants, opset, domains });
  graph.int64 = int64;
  graph.int4 = int4;
  for (const v of [...(g.input ?? []), ...(g.output ?? [])]) if (v.type?.tensorType?.elemType === 7 && v.name) int64.add(v.name);
  graph.sortTopologically();
  return graph;
}

/** Reads a model file (and its external data beside it). */
export function importModelFile(file: string): Graph {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    fail('E_ARG', `cannot read model '${file}': ${(err as Error).message}`);
  }
  return importModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { baseDir: path.dirname(path.resolve(file)) });
}
