// Model files as exporters write them: initializers kept in an external data file
// next to the model (ONNX's convention for large models), and the opset range
// lowbit takes (9 and later). Differential against onnxruntime-node, which reads
// the same files.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { LowbitError } from '../lib/errors';
import { decodeModel, onnx } from '../lib/graph/onnx';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

const K = 16, N = 8;

function gemmModel(opset = 13): { bytes: Uint8Array; w: Float32Array } {
  const rng = new Rng(7);
  const w = Float32Array.from({ length: K * N }, () => rng.next() - 0.5);
  const b = Float32Array.from({ length: N }, () => rng.next() - 0.5);
  const bytes = buildModel({
    nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['n', K] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['n', N] }],
    initializers: { w: new Tensor('float32', w, [K, N]), b: new Tensor('float32', b, [N]) },
    opset,
  });
  return { bytes, w };
}

/** The model with `w` moved to an external file entry (location/offset/length as given). */
function withExternalW(bytes: Uint8Array, entries: Record<string, string>): Uint8Array {
  const model = decodeModel(bytes);
  const graph = model.graph!;
  graph.initializer = (graph.initializer ?? []).map((t) => (t.name !== 'w' ? t : onnx.TensorProto.create({
    name: 'w',
    dims: t.dims,
    dataType: t.dataType,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
  })));
  return onnx.ModelProto.encode(model).finish();
}

const isErr = (code: string, text: RegExp) => (e: unknown) => e instanceof LowbitError && e.code === code && text.test(e.message);

describe('model files', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-model-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads initializers from an external data file next to the model, as onnxruntime-node does', async () => {
    const { bytes, w } = gemmModel();
    // The weights at an offset inside a shared data file, as exporters lay several tensors out.
    const data = Buffer.alloc(64 + w.byteLength + 32, 0xab);
    Buffer.from(w.buffer, w.byteOffset, w.byteLength).copy(data, 64);
    fs.writeFileSync(path.join(dir, 'model.data'), data);
    const file = path.join(dir, 'model.onnx');
    fs.writeFileSync(file, withExternalW(bytes, { location: 'model.data', offset: '64', length: String(w.byteLength) }));

    const x = Float32Array.from({ length: 3 * K }, (_, i) => Math.sin(i));
    const inline = Session.createSync(bytes).runSync({ x: new Tensor('float32', x, [3, K]) }).y.data as Float32Array;
    for (const s of [await Session.create(file), Session.createSync(file)]) {
      assert.deepEqual(s.runSync({ x: new Tensor('float32', x, [3, K]) }).y.data, inline);
    }
    const o = await ort.InferenceSession.create(file);
    const want = (await o.run({ x: new ort.Tensor('float32', x, [3, K]) })).y.data as Float32Array;
    inline.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `y[${i}] = ${v}, onnxruntime-node ${want[i]}`));
  });

  it('an external data file that cannot be read gives E_MODEL_INVALID naming the initializer and the file', () => {
    const { bytes, w } = gemmModel();
    fs.writeFileSync(path.join(dir, 'short.data'), Buffer.alloc(w.byteLength - 4));
    const cases: [Record<string, string>, RegExp][] = [
      [{ location: 'short.data' }, /initializer 'w': shape \[16, 8\] needs 512 bytes of data, got 508/],
      [{ location: 'short.data', offset: '0', length: String(w.byteLength) }, /'w'.*passes the end of 'short\.data'/],
      [{ location: 'missing.data' }, /'w'.*cannot read external data 'missing\.data'/],
      [{ location: '../outside.data' }, /'w'.*'\.\.\/outside\.data' leaves the model's folder/],
      [{ offset: '0' }, /'w'.*has no location/],
    ];
    for (const [entries, message] of cases) {
      const file = path.join(dir, 'bad.onnx');
      fs.writeFileSync(file, withExternalW(bytes, entries));
      assert.throws(() => Session.createSync(file), isErr('E_MODEL_INVALID', message), JSON.stringify(entries));
    }
    // Inline data of the wrong length (5 bytes for 8 floats; 3 floats for 8) is named the same way.
    const model = decodeModel(bytes);
    const bias = model.graph!.initializer!.find((t) => t.name === 'b')!;
    bias.rawData = new Uint8Array(5);
    assert.throws(() => Session.createSync(onnx.ModelProto.encode(model).finish()), isErr('E_MODEL_INVALID', /'b': shape \[8\] needs 32 bytes of data, got 5/));
    bias.rawData = new Uint8Array(0);
    bias.floatData = [1, 2, 3];
    assert.throws(() => Session.createSync(onnx.ModelProto.encode(model).finish()), isErr('E_MODEL_INVALID', /'b': shape \[8\] needs 8 values, the data holds 3 floats/));
    // From bytes there is no folder to look in.
    assert.throws(() => Session.createSync(withExternalW(bytes, { location: 'model.data' })), isErr('E_MODEL_INVALID', /'w' keeps its data in 'model\.data': load the model from its file path/));
  });

  it('opset 9 models run; older ones, or none, give a coded error', async () => {
    const { bytes } = gemmModel(9);
    const x = Float32Array.from({ length: 2 * K }, (_, i) => Math.cos(i));
    const got = Session.createSync(bytes).runSync({ x: new Tensor('float32', x, [2, K]) }).y.data as Float32Array;
    const o = await ort.InferenceSession.create(bytes);
    const want = (await o.run({ x: new ort.Tensor('float32', x, [2, K]) })).y.data as Float32Array;
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `y[${i}] = ${v}, onnxruntime-node ${want[i]}`));

    assert.throws(() => Session.createSync(gemmModel(8).bytes), isErr('E_UNSUPPORTED', /opset 8 is older than lowbit supports \(9 and later\)/));
    const none = decodeModel(bytes);
    none.opsetImport = [{ domain: 'ai.lowbit', version: 1 }];
    assert.throws(() => Session.createSync(onnx.ModelProto.encode(none).finish()), isErr('E_MODEL_INVALID', /imports no default-domain opset/));
  });
});
