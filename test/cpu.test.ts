import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { cpu, LowbitError } from '../lib';

const FEATURES = ['avx2', 'fma', 'f16c', 'avxvnni', 'avx512f', 'avx512bw', 'avx512vl', 'avx512vnni', 'avx512vpopcntdq', 'avx512vbmi', 'amxint8', 'neon', 'dotprod', 'i8mm'];
const lib = path.resolve(__dirname, '..', 'lib');

function runWithIsa(isa: string): { status: number | null; stdout: string; stderr: string } {
  const script = `try { const { cpu } = require(${JSON.stringify(lib)}); console.log('isa=' + cpu.isa); } catch (e) { console.log('error=' + e.name + ':' + e.code + ':' + e.message); }`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LOWBIT_ISA: isa } });
}

describe('cpu', function () {
  it('reports every feature flag as a boolean', function () {
    const f = cpu.features() as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(f).sort(), [...FEATURES].sort());
    for (const k of FEATURES) assert.equal(typeof f[k], 'boolean');
    if (process.arch === 'x64') assert.equal(f.neon, false);
    if (process.arch === 'arm64') assert.equal(f.neon, true);
  });

  it('names the chosen path, which is available', function () {
    assert.ok(cpu.available().includes(cpu.isa));
    assert.ok(cpu.available().includes('ref'));
    const infos = cpu.isas();
    assert.equal(infos.length, 7);
  });

  it('LOWBIT_ISA forces each available path', function () {
    for (const isa of cpu.available()) {
      const r = runWithIsa(isa);
      assert.equal(r.stdout.trim(), `isa=${isa}`, r.stderr);
    }
  });

  it('forcing a path this CPU or build lacks throws LowbitError E_ISA', function () {
    const missing = cpu.isas().find((i) => !(i.compiled && i.supported));
    assert.ok(missing, 'some path is unavailable on any one machine');
    const r = runWithIsa(missing!.name);
    assert.match(r.stdout, new RegExp(`^error=LowbitError:E_ISA:.*${missing!.name}`));
    const bogus = runWithIsa('sse9');
    assert.match(bogus.stdout, /^error=LowbitError:E_ISA:.*unknown kernel path 'sse9'/);
    assert.throws(() => cpu.setIsa(missing!.name), (e: unknown) => e instanceof LowbitError && e.code === 'E_ISA');
  });

  it('sets the thread count', function () {
    const before = cpu.threads;
    cpu.setThreads(3);
    assert.equal(cpu.threads, 3);
    cpu.setThreads(0);
    assert.ok(cpu.threads >= 1);
    cpu.setThreads(before);
  });
});
