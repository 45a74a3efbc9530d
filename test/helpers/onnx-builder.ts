// Builds small ONNX models in memory (for onnxruntime-node differential tests).
import { onnx, onnxDataType, tensorToProto } from '../../lib/graph/onnx';
import { Tensor } from '../../lib/tensor/tensor';

export interface ValueSpec {
  name: string;
  dtype: string;
  /** Dimensions; a string is a symbolic (dynamic) dimension. */
  shape: (number | string)[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[] | string>;
  domain?: string;
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: Record<string, Tensor>;
  opset?: number;
}

function valueInfo(v: ValueSpec): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: {
      tensorType: {
        elemType: onnxDataType(v.dtype),
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function attribute(name: string, v: number | number[] | string): onnx.AttributeProto {
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
  if (Number.isInteger(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
}

export function buildModel(spec: ModelSpec): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: 'lowbit_test',
    node: spec.nodes.map((n, i) => onnx.NodeProto.create({
      name: `${n.op}_${i}`,
      opType: n.op,
      domain: n.domain ?? '',
      input: n.inputs,
      output: n.outputs,
      attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
    })),
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => tensorToProto(name, t)),
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'lowbit-tests',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
