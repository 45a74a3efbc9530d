// int4 weight-only GEMM against lowbit's int8 GEMM (u8 x s8 -> int32) and fp32
// GEMM (gemmF32) of the same shape, in one process: median ms per call, GB/s of
// weights streamed (int4: N*K/2 bytes, int8: N*K, fp32: 4*N*K) and GOPS (2*M*N*K).
//
//   node dist/bench/int4.js [--threads 1,2] [--budget MS] [--isa avx2,avx512vnni]
//
// Shapes: M = 1 (GEMV, memory bound) and M = 8, K = N = 1024 and 4096.
import { cpu, ops, Tensor } from '../lib';
import type { IsaName } from '../binding';
import { medianMs, table } from './harness';

type Shape = [m: number, k: number, n: number];
const SHAPES: Shape[] = [[1, 1024, 1024], [8, 1024, 1024], [1, 4096, 4096], [8, 4096, 4096]];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 16777216;
  };
}

export async function benchInt4(threadCounts: number[], budgetMs: number, isas: IsaName[]): Promise<void> {
  const original = { isa: cpu.isa, threads: cpu.threads };
  const rows: (string | number)[][] = [['M,K,N', 'thr', 'path', 'impl', 'median ms', 'weight GB/s', 'GOPS', 'x int8', 'x fp32']];
  for (const [m, k, n] of SHAPES) {
    const rnd = lcg(m * 7 + k);
    const w = new Tensor('float32', Float32Array.from({ length: n * k }, () => rnd() * 2 - 1), [n, k]);
    const x = new Tensor('float32', Float32Array.from({ length: m * k }, () => rnd() * 2 - 1), [m, k]);
    const q32 = ops.quantizeInt4(w, { axis: 1, blockSize: 32 });
    const qch = ops.quantizeInt4(w, { axis: 1 });
    const int4Block = ops.packInt4Weights(q32.data, { scales: q32.scales, blockSize: 32 });
    const int4Channel = ops.packInt4Weights(qch.data, { scales: qch.scales });
    const b8 = new Tensor('int8', Int8Array.from({ length: k * n }, () => Math.floor(rnd() * 255) - 127), [k, n]);
    const a8 = new Tensor('uint8', Uint8Array.from({ length: m * k }, () => Math.floor(rnd() * 256)), [m, k]);
    const out32 = Tensor.zeros('int32', [m, n]);
    const outF = Tensor.zeros('float32', [m, n]);
    for (const threads of threadCounts) {
      cpu.setThreads(threads);
      for (const isa of isas) {
        cpu.setIsa(isa);
        const packed8 = ops.packMatrix(b8, 0);
        const packedF = ops.packGemmF32(w, { transB: true });
        const ops2 = 2 * m * n * k;
        const run = async (impl: string, weightBytes: number, fn: () => unknown) => {
          const r = await medianMs(fn, budgetMs);
          return { impl, ms: r.ms, gbs: weightBytes / (r.ms * 1e6), gops: ops2 / (r.ms * 1e6) };
        };
        const int8 = await run('int8 gemm (u8s8->s32)', n * k, () => ops.gemmInto(packed8, a8, m, 0, out32, null));
        const fp32 = await run('fp32 gemmF32', 4 * n * k, () => ops.gemmF32Into(x, packedF, outF));
        const i4b = await run('int4 block 32', n * k / 2, () => ops.int4GemmInto(int4Block, x, m, outF));
        const i4c = await run('int4 per channel', n * k / 2, () => ops.int4GemmInto(int4Channel, x, m, outF));
        for (const r of [i4c, i4b, int8, fp32]) {
          rows.push([`${m},${k},${n}`, threads, `${isa} (${ops.int4KernelPath()})`, r.impl, r.ms.toFixed(4), r.gbs.toFixed(2),
            r.gops.toFixed(2), (int8.ms / r.ms).toFixed(2), (fp32.ms / r.ms).toFixed(2)]);
        }
      }
    }
  }
  cpu.setIsa(original.isa);
  cpu.setThreads(original.threads);
  console.log(table(rows));
  console.log('x int8 / x fp32: speed relative to that GEMM on the same path and thread count (> 1 = faster).');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  let threads = [1];
  let budget = 300;
  let isas: IsaName[] = [cpu.available()[cpu.available().length - 1]];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--threads') threads = argv[++i].split(',').map(Number);
    else if (argv[i] === '--budget') budget = Number(argv[++i]);
    else if (argv[i] === '--isa') isas = argv[++i].split(',') as IsaName[];
    else throw new Error(`unknown option ${argv[i]}`);
  }
  benchInt4(threads, budget, isas).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
