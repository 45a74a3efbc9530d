// CPU feature detection and the kernel paths ("ISAs") lowbit can run.
#pragma once

#include <cstdint>
#include <string>

namespace lowbit {

// What this CPU and OS can execute. x86 fields need both the CPUID bit and the
// OS saving the register state (XGETBV); ARM fields come from getauxval(AT_HWCAP).
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avxvnni = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512vpopcntdq = false;
  bool avx512vbmi = false;  // vpermb / vpermi2b: byte tables
  bool amxint8 = false;
  bool neon = false;
  bool dotprod = false;
  bool i8mm = false;
};

// A kernel path. The order is the order of preference on each architecture.
enum class Isa : int {
  kRef = 0,
  kAvx2,
  kAvxVnni,
  kAvx512Vnni,
  kAmx,
  kNeon,
  kNeonDot,
  kCount
};

const CpuFeatures& cpu_features();  // detected once, then cached
const char* isa_name(Isa isa);
bool parse_isa(const std::string& name, Isa* out);
// The CPU (and OS) can run this path's instructions.
bool cpu_supports(Isa isa);

}  // namespace lowbit
