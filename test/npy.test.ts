// NumPy .npy files as Tensors (calibration batches prepared in Python), and the
// CLI calibrating from a folder of them.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LowbitError } from '../lib/errors';
import { parseNpy, readNpy } from '../lib/quant/data/npy';
import { Session } from '../lib/runtime/session';
import { Tensor } from '../lib/tensor/tensor';
import { buildModel } from './helpers/onnx-builder';
import { Rng } from './helpers/random';

/** A .npy file as numpy.save writes it: magic, version, header padded to 64 bytes, data. */
function npy(descr: string, shape: number[], data: ArrayBufferView, o: { major?: number; fortran?: boolean } = {}): Uint8Array {
  const major = o.major ?? 1;
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': (${dims}), }`;
  const prefix = major === 1 ? 10 : 12;
  header += ' '.repeat(63 - ((prefix + header.length) % 64)) + '\n';
  const out = new Uint8Array(prefix + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), prefix);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + header.length);
  return out;
}

const isErr = (code: string, text: RegExp) => (e: unknown) => e instanceof LowbitError && e.code === code && text.test(e.message);

describe('.npy files', () => {
  it('reads float32, float64, int32, int64, uint8 and int8 arrays of any rank, format 1.0 and 2.0', () => {
    const f = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
    const t = parseNpy(npy('<f4', [2, 3], f));
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.data, f);
    const v2 = parseNpy(npy('<f4', [3, 2], f, { major: 2 }));
    assert.deepEqual([v2.shape, v2.data], [[3, 2], f]);
    assert.deepEqual(parseNpy(npy('<f8', [4], Float64Array.of(1.5, -2, 3.25, 1e-3))).data, Float32Array.of(1.5, -2, 3.25, 1e-3));
    assert.deepEqual(parseNpy(npy('<i4', [2], Int32Array.of(-7, 9))).data, Int32Array.of(-7, 9));
    const i64 = parseNpy(npy('<i8', [3], BigInt64Array.of(-5n, 0n, 2147483647n)));
    assert.deepEqual([i64.dtype, i64.data], ['int32', Int32Array.of(-5, 0, 2147483647)]);
    assert.deepEqual(parseNpy(npy('|u1', [1, 1, 3], Uint8Array.of(0, 128, 255))).data, Uint8Array.of(0, 128, 255));
    assert.deepEqual(parseNpy(npy('|i1', [2], Int8Array.of(-128, 127))).data, Int8Array.of(-128, 127));
    const scalar = parseNpy(npy('<f4', [], Float32Array.of(42)));
    assert.deepEqual([scalar.shape, scalar.data], [[], Float32Array.of(42)]);
  });

  it('says what is wrong with a file it cannot take', () => {
    const f = new Float32Array(6);
    assert.throws(() => parseNpy(new Uint8Array(20), 'a.npy'), isErr('E_ARG', /a\.npy: not a \.npy file/));
    assert.throws(() => parseNpy(npy('<f4', [2, 3], f, { fortran: true })), isErr('E_UNSUPPORTED', /Fortran-order/));
    assert.throws(() => parseNpy(npy('>f4', [2, 3], f)), isErr('E_UNSUPPORTED', /element type >f4 is not supported/));
    assert.throws(() => parseNpy(npy('<f4', [2, 4], f)), isErr('E_ARG', /24 data bytes for 8 elements of <f4/));
    assert.throws(() => parseNpy(npy('<i8', [1], BigInt64Array.of(1n << 40n))), isErr('E_UNSUPPORTED', /does not fit int32/));
    const badShape = Buffer.from(npy('<f4', [2, 3], f)).toString('latin1').replace('(2, 3)', '(2, x)');
    assert.throws(() => parseNpy(Uint8Array.from(Buffer.from(badShape, 'latin1'))), isErr('E_ARG', /bad shape \(2, x\)/));
    const noShape = Buffer.from(npy('<f4', [2, 3], f)).toString('latin1').replace("'shape'", "'shap_'");
    assert.throws(() => parseNpy(Uint8Array.from(Buffer.from(noShape, 'latin1'))), isErr('E_ARG', /unreadable header/));
    assert.throws(() => readNpy(path.join(os.tmpdir(), 'no-such-lowbit-file.npy')), isErr('E_ARG', /cannot read/));
  });

  it('lowbit quantize --calib DIR takes a folder of .npy batches named after the input', function () {
    this.timeout(120000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lowbit-npy-'));
    try {
      const rng = new Rng(5);
      const model = path.join(dir, 'mlp.onnx');
      fs.writeFileSync(model, buildModel({
        nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] }, { op: 'Relu', inputs: ['h'], outputs: ['y'] }],
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 32] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 16] }],
        initializers: { w: new Tensor('float32', rng.floats(32 * 16, -0.5, 0.5), [32, 16]) },
      }));
      const calib = path.join(dir, 'calib');
      fs.mkdirSync(calib);
      for (let b = 0; b < 3; b++) fs.writeFileSync(path.join(calib, `x.${b}.npy`), npy('<f4', [4, 32], rng.floats(4 * 32, -1, 1)));
      fs.writeFileSync(path.join(calib, 'notes.txt'), 'not a batch');
      const out = path.join(dir, 'mlp.int8.onnx');
      const main = path.resolve(__dirname, '..', 'lib', 'cli', 'main.js');
      const r = spawnSync(process.execPath, [main, 'quantize', model, '-o', out, '--calib', calib, '--method', 'minmax'], { encoding: 'utf8', timeout: 120000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout + r.stderr, /3 batches|calibrated on 3/);
      const q = Session.createSync(out);
      const x = new Tensor('float32', rng.floats(2 * 32, -1, 1), [2, 32]);
      const [a, b] = [Session.createSync(model).runSync({ x }).y.data as Float32Array, q.runSync({ x }).y.data as Float32Array];
      const range = Math.max(...a) - Math.min(...a);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 0.05 * range, `y[${i}] fp32 ${v} int8 ${b[i]}`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
