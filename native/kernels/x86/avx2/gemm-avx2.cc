// The AVX2 GEMM path: weight packing and the driver that tiles a call over the
// 6x8c4 microkernel. Column blocks whose packed slab fits in L2; within a
// block, each 6-row tile of A is widened to int16 once (a stack buffer, with
// the K tail zero-padded so the kernel needs no tail code) and then runs over
// every panel of the block; the whole K is accumulated in registers and the
// output stage applied straight from them.
//
// Correction (pack.h, with A in its own domain since vpmaddwd is signed x signed):
// C = dot(A, B') + offset[n] - zb'[n] * rowsum(A)[m],
// offset[n] = K*za*zb'[n] - za*colsum(B')[n] (+ bias[n] when requantizing).
#include <algorithm>

#include "gemm-avx2.h"
#include "lowbit/pack.h"

namespace lowbit {
namespace avx2 {
namespace {

void pack(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
          const std::vector<int32_t>& zero_point, PackedMatrix* out) {
  pack_u8s8_panels(b, b_signed, k, n, b_stride, zero_point, kNr, kKr, kKr, out);
}

// One row of A to int16 (sign- or zero-extended), zero-padded from k to kp.
void widen_row(const uint8_t* a, size_t k, size_t kp, bool a_signed, int16_t* out) {
  size_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        a_signed ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v));
  }
  for (; i < k; ++i) out[i] = a_signed ? static_cast<int8_t>(a[i]) : a[i];
  for (; i < kp; ++i) out[i] = 0;
}

void run(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  if (m_begin >= m_end || n_begin >= n_end) return;
  const PackedMatrix& b = *args.b;
  const size_t k = b.k;
  const size_t kp = packed_k(k, kKr);
  const bool a_signed = args.a_signed;
  const x86ymm::OutputStage os = x86ymm::make_output_stage(args.rq);
  const size_t out_bytes = args.rq == nullptr ? sizeof(int32_t) : 1;
  const auto* a_base = static_cast<const uint8_t*>(args.a);
  auto* c_base = static_cast<uint8_t*>(args.c);
  const auto* w_base = static_cast<const int8_t*>(b.data.data());
  const bool widen = kp <= kMaxWidenedK;
  // sum(A) = sum(A XOR 0x80) - 128 K for int8 A (wrapping).
  const uint32_t sum_fix = a_signed ? static_cast<uint32_t>(k) * 128u : 0u;

  const size_t block = x86ymm::block_columns(kp, kNr);
  x86ymm::BlockArrays arrays;
  const x86ymm::Columns columns = arrays.columns();
  alignas(32) int16_t a16[kMr * kMaxWidenedK];
  int32_t sums[kMr];
  for (size_t n0 = n_begin; n0 < n_end; n0 += block) {
    const size_t n1 = std::min(n_end, n0 + block);
    const bool need_rows = x86ymm::prepare_block(b, args.rq, args.a_zero_point, n0, n1 - n0, kNr, &arrays);
    x86ymm::for_each_row_tile(m_begin, m_end, kMr, [&](size_t m0, size_t rows) {
      const uint8_t* a = a_base + m0 * args.a_stride;
      if (need_rows) {
        for (size_t r = 0; r < rows; ++r) {
          const int32_t s = x86ymm::row_sum_u8(a + r * args.a_stride, k, a_signed ? 0x80 : 0);
          sums[r] = static_cast<int32_t>(static_cast<uint32_t>(s) - sum_fix);
        }
      }
      const void* tile_a = a;
      size_t tile_stride = args.a_stride;
      x86ymm::TileKernel kernel = kGemmMrx8c4[a_signed][rows];
      if (widen) {
        for (size_t r = 0; r < rows; ++r) widen_row(a + r * args.a_stride, k, kp, a_signed, a16 + r * kp);
        tile_a = a16;
        tile_stride = kp * sizeof(int16_t);
        kernel = kGemmWidenedMrx8c4[rows];
      }
      for (size_t p = n0; p < n1; p += kNr) {
        kernel(k, tile_a, tile_stride, w_base + (p / kNr) * kp * kNr, need_rows ? sums : nullptr,
               columns.at(p - n0), os, c_base + (m0 * args.c_stride + p) * out_bytes, args.c_stride,
               std::min(kNr, n1 - p));
      }
    });
  }
}

}  // namespace

extern const GemmPath kGemmPath = {Isa::kAvx2, kNr, kMr, pack, run};

}  // namespace avx2
}  // namespace lowbit
