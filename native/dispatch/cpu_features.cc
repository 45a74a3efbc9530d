// CPU feature detection: CPUID + XGETBV on x86, getauxval(AT_HWCAP) on ARM.
#include <cstring>

#include "lowbit/cpu.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define LOWBIT_X86 1
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__aarch64__)
#define LOWBIT_ARM64 1
#include <sys/auxv.h>
#endif

namespace lowbit {
namespace {

#if LOWBIT_X86
uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return f;
  const unsigned max_leaf = eax;
  __get_cpuid(1, &eax, &ebx, &ecx, &edx);
  const bool osxsave = (ecx >> 27) & 1;
  const bool fma = (ecx >> 12) & 1;
  const bool f16c = (ecx >> 29) & 1;
  const bool avx = (ecx >> 28) & 1;
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  // The OS must save XMM|YMM (bits 1,2), opmask|ZMM (5,6,7), tile config|data (17,18).
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = os_ymm && (xcr0 & 0xE0) == 0xE0;
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;
  if (!os_ymm || max_leaf < 7) return f;

  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const unsigned ebx7 = ebx, ecx7 = ecx, edx7 = edx;
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  const unsigned eax7_1 = eax;

  f.avx2 = (ebx7 >> 5) & 1;
  f.fma = fma;
  f.f16c = f16c;
  f.avxvnni = f.avx2 && ((eax7_1 >> 4) & 1);
  if (os_zmm) {
    f.avx512f = (ebx7 >> 16) & 1;
    f.avx512bw = f.avx512f && ((ebx7 >> 30) & 1);
    f.avx512vl = f.avx512f && ((ebx7 >> 31) & 1);
    f.avx512vnni = f.avx512f && ((ecx7 >> 11) & 1);
    f.avx512vpopcntdq = f.avx512f && ((ecx7 >> 14) & 1);
    f.avx512vbmi = f.avx512f && ((ecx7 >> 1) & 1);
  }
  f.amxint8 = os_amx && ((edx7 >> 25) & 1) && ((edx7 >> 24) & 1);  // AMX-INT8 and AMX-TILE
  return f;
}
#elif LOWBIT_ARM64
CpuFeatures detect() {
  CpuFeatures f;
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  f.neon = (hwcap >> 1) & 1;              // HWCAP_ASIMD
  f.dotprod = (hwcap >> 20) & 1;          // HWCAP_ASIMDDP
  f.i8mm = (hwcap2 >> 13) & 1;            // HWCAP2_I8MM
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

#if LOWBIT_X86
// Linux hands out the AMX tile state only on request (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without it the first tile
// instruction faults. Asked once per process.
bool amx_permission_granted() {
  static const bool granted = [] {
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
}
#else
bool amx_permission_granted() { return false; }
#endif

const char* const kIsaNames[] = {"ref", "avx2", "avxvnni", "avx512vnni", "amx", "neon", "neondot"};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char* isa_name(Isa isa) {
  const int i = static_cast<int>(isa);
  return i >= 0 && i < static_cast<int>(Isa::kCount) ? kIsaNames[i] : "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  for (int i = 0; i < static_cast<int>(Isa::kCount); ++i) {
    if (name == kIsaNames[i]) {
      *out = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

bool cpu_supports(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kRef: return true;
    case Isa::kAvx2: return f.avx2 && f.fma;
    case Isa::kAvxVnni: return f.avx2 && f.fma && f.avxvnni;
    case Isa::kAvx512Vnni: return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
    case Isa::kAmx:
      return f.amxint8 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni &&
             amx_permission_granted();
    case Isa::kNeon: return f.neon;
    case Isa::kNeonDot: return f.neon && f.dotprod;
    default: return false;
  }
}

}  // namespace lowbit
