// The AVX-VNNI GEMM path: weight packing and the driver that tiles a call over
// the 6x16c4 microkernel. Same structure as the AVX512-VNNI driver: column
// blocks whose packed slab fits in L2, 6-row tiles of A (L1-resident) running
// over every panel of the block, the whole K accumulated in registers and the
// output stage applied straight from them.
//
// Correction (pack.h): C = dot(A_eff, B') + offset[n] - zb'[n] * rowsum(A_eff)[m],
// offset[n] = K*za_eff*zb'[n] - za_eff*colsum(B')[n] (+ bias[n] when requantizing).
#include <algorithm>

#include "gemm-avxvnni.h"
#include "lowbit/pack.h"

namespace lowbit {
namespace avxvnni {
namespace {

void pack(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
          const std::vector<int32_t>& zero_point, PackedMatrix* out) {
  pack_u8s8_panels(b, b_signed, k, n, b_stride, zero_point, kNr, kKr, kKr, out);
}

void run(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  if (m_begin >= m_end || n_begin >= n_end) return;
  const PackedMatrix& b = *args.b;
  const size_t k = b.k;
  const size_t kp = packed_k(k, kKr);
  const bool a_signed = args.a_signed;
  const int32_t za_eff =
      static_cast<int32_t>(static_cast<uint32_t>(args.a_zero_point) + (a_signed ? 128u : 0u));
  const x86ymm::OutputStage os = x86ymm::make_output_stage(args.rq);
  const size_t out_bytes = args.rq == nullptr ? sizeof(int32_t) : 1;
  const auto* a_base = static_cast<const uint8_t*>(args.a);
  auto* c_base = static_cast<uint8_t*>(args.c);
  const auto* w_base = static_cast<const int8_t*>(b.data.data());

  const size_t block = x86ymm::block_columns(kp, kNr);
  x86ymm::BlockArrays arrays;
  const x86ymm::Columns columns = arrays.columns();
  int32_t sums[kMr];
  for (size_t n0 = n_begin; n0 < n_end; n0 += block) {
    const size_t n1 = std::min(n_end, n0 + block);
    const bool need_rows = x86ymm::prepare_block(b, args.rq, za_eff, n0, n1 - n0, kNr, &arrays);
    x86ymm::for_each_row_tile(m_begin, m_end, kMr, [&](size_t m0, size_t rows) {
      const uint8_t* a = a_base + m0 * args.a_stride;
      if (need_rows) {
        for (size_t r = 0; r < rows; ++r) {
          sums[r] = x86ymm::row_sum_u8(a + r * args.a_stride, k, a_signed ? 0x80 : 0);
        }
      }
      const x86ymm::TileKernel kernel = kGemmMrx16c4[a_signed][rows];
      for (size_t p = n0; p < n1; p += kNr) {
        kernel(k, a, args.a_stride, w_base + (p / kNr) * kp * kNr, need_rows ? sums : nullptr,
               columns.at(p - n0), os, c_base + (m0 * args.c_stride + p) * out_bytes, args.c_stride,
               std::min(kNr, n1 - p));
      }
    });
  }
}

}  // namespace

extern const GemmPath kGemmPath = {Isa::kAvxVnni, kNr, kMr, pack, run};

}  // namespace avxvnni
}  // namespace lowbit
