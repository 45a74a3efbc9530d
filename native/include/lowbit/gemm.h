// Int8 GEMM with ONNX MatMulInteger / QLinearMatMul semantics:
//   C[m][n] = sum_k (A[m][k] - a_zero_point) * (B[k][n] - b_zero_point[n])
// A is uint8 or int8 (row-major, M x K), B is uint8 or int8 (K x N), packed once
// per path. Accumulation is exact int32 with two's-complement wrap-around (which
// only matters for K beyond 33025), identical on every path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/cpu.h"
#include "lowbit/requantize.h"

namespace lowbit {

// The right-hand matrix in the layout one path's kernels read. Weights are
// packed once at load and reused for every call.
struct PackedMatrix {
  Isa isa = Isa::kRef;
  size_t k = 0;
  size_t n = 0;
  bool b_signed = true;
  std::vector<int32_t> zero_point;  // as given: 1 (per tensor) or n values
  // Path-specific data. SIMD paths work in the u8 x s8 domain: B' = B - 128 for
  // uint8 B (zero points shifted alike), column sums of B' for the zero-point
  // correction, and panels of `nr` columns with K grouped by `kr`.
  std::vector<int32_t> column_sum;      // n values (SIMD paths)
  std::vector<int32_t> zero_point_s8;   // n values, B' domain (SIMD paths)
  size_t nr = 0;
  size_t kr = 0;
  AlignedBuffer data;

  int32_t zero_point_at(size_t col) const {
    return zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : col];
  }
};

// One GEMM call over rows [m_begin, m_end) and columns [n_begin, n_end), so that
// a thread pool can split the work; n_begin is a multiple of the path's nr.
struct GemmArgs {
  size_t m = 0;                 // rows of A and C
  const void* a = nullptr;
  size_t a_stride = 0;          // bytes between rows of A
  bool a_signed = false;
  int32_t a_zero_point = 0;
  const PackedMatrix* b = nullptr;
  const Requantization* rq = nullptr;  // nullptr: int32 output
  void* c = nullptr;            // int32_t, uint8_t or int8_t elements
  size_t c_stride = 0;          // elements between rows of C
};

// An implementation of the GEMM for one ISA.
struct GemmPath {
  Isa isa;
  size_t nr;  // column tile; thread splits along N are multiples of it
  size_t mr;  // row tile
  void (*pack)(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
               const std::vector<int32_t>& zero_point, PackedMatrix* out);
  void (*run)(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end);
};

// The GEMM path compiled for this ISA, or nullptr if this binary has none.
const GemmPath* gemm_path(Isa isa);

// Pack B for a path. b_stride is in elements (bytes) between rows of B.
void pack_matrix(const GemmPath& path, const void* b, bool b_signed, size_t k, size_t n,
                 size_t b_stride, const std::vector<int32_t>& zero_point, PackedMatrix* out);

// Run a whole GEMM (single-threaded) with the path B was packed for.
void gemm(const GemmPath& path, const GemmArgs& args);

class ThreadPool;
// Run a whole GEMM split into tiles over a thread pool. The split never changes
// the result: every output element is computed by one tile, the same way.
void gemm_parallel(const GemmPath& path, const GemmArgs& args, ThreadPool& pool);

namespace ref {

// The ground truth: the ONNX formula evaluated directly, one output at a time.
void gemm_s32(size_t m, size_t n, size_t k, const void* a, bool a_signed, size_t a_stride,
              int32_t a_zero_point, const void* b, bool b_signed, size_t b_stride,
              const int32_t* b_zero_point, size_t b_zero_point_count, int32_t* c,
              size_t c_stride);

// Requantize a [outer x channels x inner] block of accumulators; parameters are
// indexed by channel (or shared when they hold one value).
void requantize(const Requantization& rq, const int32_t* acc, size_t outer, size_t channels,
                size_t inner, void* out);

}  // namespace ref
}  // namespace lowbit
