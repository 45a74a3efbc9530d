// fp32 GEMM / igemm, 8x32 tiles (8 rows x two vectors; one vector for a
// narrow last panel), fused epilogue, AVX-512F: the generic tile of
// common/f32-kernels.h instantiated with this ISA's vector operations.
#include "f32-ops-avx512f.h"
#include "../../common/f32-kernels.h"

namespace lowbit {
namespace avx512vnni {

void f32_gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1) {
  f32::gemm<F32Ops, 8>(args, m0, m1, n0, n1);
}

}  // namespace avx512vnni
}  // namespace lowbit
