// fp32 GEMM / igemm, 6x16 tiles (6 rows x two vectors; one vector for a
// narrow last panel), fused epilogue, AVX2+FMA: the generic tile of
// common/f32-kernels.h instantiated with this ISA's vector operations.
#include "f32-ops-avx2.h"
#include "../../common/f32-kernels.h"

namespace lowbit {
namespace avx2 {

void f32_gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1) {
  f32::gemm<F32Ops, 6>(args, m0, m1, n0, n1);
}

}  // namespace avx2
}  // namespace lowbit
