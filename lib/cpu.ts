// What the CPU can do, which kernel path runs, and how many threads it uses.
import type { CpuFeatures, IsaInfo, IsaName } from '../binding';
import { native } from './native';

export type { CpuFeatures, IsaInfo, IsaName };

export const cpu = {
  /** CPU features as the kernels see them (CPUID + OS support, or HWCAP). */
  features(): CpuFeatures {
    return native.cpuFeatures();
  },
  /** The active kernel path: the best one at load, or LOWBIT_ISA, or setIsa's. */
  get isa(): IsaName {
    return native.getIsa();
  },
  /** Every path with whether this build has it and this CPU runs it. */
  isas(): IsaInfo[] {
    return native.isas();
  },
  /** Paths usable here (compiled and supported), best last. */
  available(): IsaName[] {
    return native.isas().filter((i) => i.compiled && i.supported).map((i) => i.name);
  },
  /** Forces a kernel path (E_ISA if unavailable). Weights packed before must be packed again. */
  setIsa(isa: IsaName): void {
    native.setIsa(isa);
  },
  /** Kernel threads for one call (0 = one per core). */
  setThreads(threads: number): void {
    native.setThreads(threads);
  },
  get threads(): number {
    return native.getThreads();
  },
};
