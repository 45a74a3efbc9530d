// The ONNX project's own operator test cases, read from ../shared/conformance/onnx
// (never copied into this repository). LOWBIT_CONFORMANCE_DIR overrides the path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeModel, decodeTensor, onnx } from '../../lib/graph/onnx';

export interface CaseInfo {
  name: string;
  ops: string[];
  opset: string;
  dataSets: number;
}

export function conformanceDir(): string {
  if (process.env.LOWBIT_CONFORMANCE_DIR) return process.env.LOWBIT_CONFORMANCE_DIR;
  // dist/test/helpers -> project root -> ../shared
  return path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'conformance', 'onnx');
}

export function listCases(): CaseInfo[] {
  const index = path.join(conformanceDir(), 'index.json');
  if (!fs.existsSync(index)) return [];
  return JSON.parse(fs.readFileSync(index, 'utf8')) as CaseInfo[];
}

export interface LoadedCase {
  model: onnx.ModelProto;
  node: onnx.INodeProto;
  sets: { inputs: onnx.TensorProto[]; outputs: onnx.TensorProto[] }[];
}

export function loadCase(name: string): LoadedCase {
  const dir = path.join(conformanceDir(), 'cases', name);
  const model = decodeModel(fs.readFileSync(path.join(dir, 'model.onnx')));
  const node = model.graph!.node![0];
  const sets: LoadedCase['sets'] = [];
  for (const entry of fs.readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort()) {
    const read = (prefix: string) =>
      fs.readdirSync(path.join(dir, entry))
        .filter((f) => f.startsWith(prefix))
        .sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')))
        .map((f) => decodeTensor(fs.readFileSync(path.join(dir, entry, f))));
    sets.push({ inputs: read('input_'), outputs: read('output_') });
  }
  return { model, node, sets };
}

/** A node attribute's value (int, float, ints), or undefined. */
export function attr(node: onnx.INodeProto, name: string): number | number[] | undefined {
  const a = node.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  switch (a.type) {
    case onnx.AttributeProto.AttributeType.INT: return Number(a.i);
    case onnx.AttributeProto.AttributeType.FLOAT: return a.f ?? 0;
    case onnx.AttributeProto.AttributeType.INTS: return (a.ints ?? []).map(Number);
    default: return undefined;
  }
}
