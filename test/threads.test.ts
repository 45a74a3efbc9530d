// Splitting a GEMM over the thread pool never changes its result: 1, 2 and 3
// threads give identical outputs on every kernel path, int32 and requantized.
import { strict as assert } from 'node:assert';
import { cpu, ops, Tensor } from '../lib';
import { Rng } from './helpers/random';

describe('thread pool', function () {
  const original = { isa: cpu.isa, threads: cpu.threads };
  after(() => {
    cpu.setIsa(original.isa);
    cpu.setThreads(original.threads);
  });

  // Shapes large enough to be split (above the 64K multiply-add threshold),
  // split along N (many panels) and along M (few panels).
  const shapes: [number, number, number][] = [[129, 257, 65], [300, 64, 100], [1, 4096, 33], [97, 33, 1000]];

  it('1, 2 and 3 threads give identical results on every path', function () {
    const rng = new Rng(11);
    for (const [m, n, k] of shapes) {
      const a = new Tensor('uint8', rng.bytes(m * k, false, 'mixed'), [m, k]);
      const b = new Tensor('int8', rng.bytes(k * n, true, 'mixed'), [k, n]);
      const zp = new Tensor('int8', rng.bytes(n, true), [n]);
      const scale = Float32Array.from({ length: n }, () => 0.0005 + rng.next() * 0.002);
      for (const isa of cpu.available()) {
        cpu.setIsa(isa);
        const packed = ops.packMatrix(b, zp);
        const outputs: Int32Array[] = [];
        const requantized: Uint8Array[] = [];
        for (const threads of [1, 2, 3]) {
          cpu.setThreads(threads);
          assert.equal(cpu.threads, threads);
          outputs.push(ops.matmulInteger(a, packed, 7).data as Int32Array);
          requantized.push(ops.qlinearMatmul(a, 0.1, 7, packed, scale, undefined, 0.5, 100).data as Uint8Array);
        }
        for (const t of [1, 2]) {
          assert.deepEqual(outputs[t], outputs[0], `${isa} M=${m} N=${n} K=${k}: ${t + 1} threads differ from 1 (int32)`);
          assert.deepEqual(requantized[t], requantized[0], `${isa} M=${m} N=${n} K=${k}: ${t + 1} threads differ from 1 (uint8)`);
        }
      }
    }
  });
});
