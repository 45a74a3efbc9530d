// fp32 GEMM, scalar: the ground truth (ref::gemm_f32, unpacked B) and the ref
// path's tile function over packed B. Both accumulate bias first, then the
// products in k order, one multiply and one add each (-ffp-contract=off).
#include <vector>

#include "lowbit/gemm_f32.h"

namespace lowbit {
namespace ref {

void gemm_f32(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const float* b, size_t b_stride,
              const float* bias, const F32Epilogue& e, float* c, size_t c_stride) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      float acc = bias != nullptr ? bias[j] : 0.0f;
      for (size_t x = 0; x < k; ++x) acc += a[i * a_stride + x] * b[x * b_stride + j];
      c[i * c_stride + j] = f32_activate(e, acc);
    }
  }
}

// The ref path: one output element at a time, reading A through the same row
// pointers (direct or indirect) as the SIMD paths and B from its panels.
void f32_gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1) {
  const PackedF32Matrix& b = *args.b;
  const size_t ks = args.indirection != nullptr ? args.ks : 1;
  const size_t kc = b.k / ks;
  thread_local std::vector<const float*> rows;
  if (rows.size() < ks) rows.resize(ks);
  for (size_t i = m0; i < m1; ++i) {
    if (args.indirection == nullptr) {
      rows[0] = args.a + i * args.a_stride;
    } else {
      for (size_t t = 0; t < ks; ++t) {
        const size_t off = args.indirection[i * ks + t];
        rows[t] = off == kF32PaddingTap ? args.zero : reinterpret_cast<const float*>(args.a_base + off);
      }
    }
    for (size_t j = n0; j < n1; ++j) {
      const size_t p = j / b.nr;
      const size_t width = b.panel_width(p);
      const float* w = b.panel(p) + (j - p * b.nr);
      float acc = *b.bias_at(j);
      for (size_t t = 0; t < ks; ++t) {
        for (size_t x = 0; x < kc; ++x) acc += rows[t][x] * w[(t * kc + x) * width];
      }
      args.c[i * args.c_stride + j] = f32_activate(args.epilogue, acc);
    }
  }
}

}  // namespace ref
}  // namespace lowbit
