#include "harness.h"
#include "lowbit/cpu.h"
#include "lowbit/gemm.h"

using namespace lowbit;

TEST(cpu_isa_names_round_trip) {
  for (int i = 0; i < static_cast<int>(Isa::kCount); ++i) {
    Isa parsed;
    CHECK(parse_isa(isa_name(static_cast<Isa>(i)), &parsed));
    CHECK_EQ(static_cast<int>(parsed), i);
  }
  Isa unused;
  CHECK(!parse_isa("sse9", &unused));
}

TEST(cpu_features_are_consistent) {
  const CpuFeatures& f = cpu_features();
  CHECK(cpu_supports(Isa::kRef));
  CHECK(gemm_path(Isa::kRef) != nullptr);
  // Feature implications that any real CPU satisfies.
  if (f.avx512vnni) CHECK(f.avx512f);
  if (f.avxvnni) CHECK(f.avx2);
  if (f.dotprod) CHECK(f.neon);
#if defined(__x86_64__)
  CHECK(!f.neon && !f.dotprod);
#elif defined(__aarch64__)
  CHECK(f.neon);  // ASIMD is mandatory on AArch64
#endif
}
