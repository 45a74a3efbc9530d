// The tiling driver shared by the ARM int8 GEMM paths. Each ISA folder
// instantiates run_gemm<Kernels> in its own translation unit (and so with its
// own -march); see neon/gemm-neon.cc and neondot/gemm-neondot.cc.
//
// Arithmetic domain (same identity as pack.h, one step further): the kernels
// multiply A'' = A_eff XOR 0x80 (int8) by B' (int8), so every product fits int16
// (|-128 * -128| = 16384) and there is no mixed-sign multiply to emulate.
//   uint8 A: A'' = A - 128   za'' = za - 128
//   int8 A:  A'' = A         za'' = za
// Then (A - za)(B - zb) = (A'' - za'')(B' - zb') and, summed over K in wrapping int32,
//   C[m][n] = dot(A''[m], B'[:,n]) + column_offset[n] - zb'[n] * rowsum(A'')[m]
//   column_offset[n] = bias[n] - za'' * colsum(B')[n] + K * za'' * zb'[n]
// which is ref::gemm_s32 (plus the bias) bit for bit, since all of it is a
// polynomial identity evaluated modulo 2^32.
//
// Loop order: chunks of up to kRowChunk rows (row sums and K tails computed once
// per chunk, on the stack), then panels of NR columns (parameters prepared once
// per panel), then tiles of MR rows; the B panel stays in L1 across the chunk.
#pragma once

#include <arm_neon.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gemm-microkernel.h"
#include "lowbit/gemm.h"
#include "lowbit/pack.h"

namespace lowbit {
namespace arm {

constexpr size_t kRowChunk = 64;

namespace {

// sum_k (A[k] ^ flip) as int8, wrapping like the rest of the accumulation.
inline int32_t row_sum_s8(const uint8_t* row, size_t k, uint8_t flip) {
  const uint8x16_t vflip = vdupq_n_u8(flip);
  int32x4_t acc = vdupq_n_s32(0);
  size_t p = 0;
  for (; p + kKBlock <= k; p += kKBlock) {
    const int8x16_t v = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(row + p), vflip));
    acc = vpadalq_s16(acc, vpaddlq_s8(v));  // pairs of int8 fit int16; no saturation
  }
  uint32_t sum = static_cast<uint32_t>(vaddvq_s32(acc));
  for (; p < k; ++p) sum += static_cast<uint32_t>(static_cast<int8_t>(row[p] ^ flip));
  return static_cast<int32_t>(sum);
}

inline OutputStage make_output_stage(const Requantization* rq) {
  OutputStage out;
  if (rq == nullptr) return out;
  out.kind = rq->out_signed ? OutputKind::kInt8 : OutputKind::kUint8;
  out.mode = rq->mode;
  out.zero_point = rq->zero_point;
  out.qmin = rq->qmin;
  out.qmax = rq->qmax;
  out.lo = static_cast<float>(rq->qmin - rq->zero_point);  // as requantize_one
  out.hi = static_cast<float>(rq->qmax - rq->zero_point);
  out.hardswish = rq->hardswish;
  out.hardswish_k = rq->hardswish_k;
  return out;
}

template <size_t NR>
void prepare_panel(const PackedMatrix& b, const Requantization* rq, size_t n0, size_t columns,
                   int32_t za, PanelParams<NR>* p) {
  const uint32_t uza = static_cast<uint32_t>(za);
  const uint32_t k_za = static_cast<uint32_t>(b.k) * uza;
  for (size_t j = 0; j < NR; ++j) {
    p->column_offset[j] = 0;
    p->zero_point_b[j] = 0;
    p->multiplier[j] = 0;
    p->left_shift[j] = 0;
    p->right_shift[j] = 0;
    p->scale[j] = 0.0f;
    if (j >= columns) continue;
    const size_t col = n0 + j;
    const uint32_t zb = static_cast<uint32_t>(b.zero_point_s8[col]);
    uint32_t offset = k_za * zb - uza * static_cast<uint32_t>(b.column_sum[col]);
    p->zero_point_b[j] = static_cast<int32_t>(zb);
    if (rq != nullptr) {
      if (!rq->bias.empty()) {
        offset += static_cast<uint32_t>(rq->bias[rq->bias.size() == 1 ? 0 : col]);
      }
      if (rq->mode == RequantMode::kFixedpoint) {
        const size_t i = rq->multiplier.size() == 1 ? 0 : col;
        p->multiplier[j] = rq->multiplier[i];
        p->left_shift[j] = rq->shift[i] > 0 ? rq->shift[i] : 0;
        p->right_shift[j] = rq->shift[i] > 0 ? 0 : rq->shift[i];
      } else {
        p->scale[j] = rq->scale[rq->scale.size() == 1 ? 0 : col];
      }
    }
    p->column_offset[j] = static_cast<int32_t>(offset);
  }
}

// Kernels: struct with kMr, kNr, gemm(const GemmTile<kMr, kNr>&) and
// gemv(const GemmTile<1, kNr>&) (the one-row kernel, used whenever a tile has a single row).
template <class Kernels>
void run_gemm(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  constexpr size_t MR = Kernels::kMr;
  constexpr size_t NR = Kernels::kNr;
  static_assert(kRowChunk % MR == 0, "row chunks hold whole tiles");
  const PackedMatrix& b = *args.b;
  const size_t k = b.k;
  const size_t panel_bytes = packed_k(k, kKBlock) * NR;
  const size_t k_blocks = k / kKBlock;
  const size_t k_rest = k % kKBlock;
  const uint8_t flip = args.a_signed ? 0x00 : 0x80;
  const int32_t za = static_cast<int32_t>(static_cast<uint32_t>(args.a_zero_point) -
                                          (args.a_signed ? 0u : 128u));
  const OutputStage out = make_output_stage(args.rq);
  const size_t out_bytes = args.rq == nullptr ? sizeof(int32_t) : 1;
  const auto* a = static_cast<const uint8_t*>(args.a);
  auto* c = static_cast<uint8_t*>(args.c);
  const auto* packed = static_cast<const int8_t*>(b.data.data());

  int32_t row_sum[kRowChunk];
  // The last partial K block of each row, zero-padded, so no load runs past the
  // end of A (B' is zero there, so the padding adds nothing).
  alignas(16) uint8_t tails[kRowChunk][kKBlock];
  PanelParams<NR> params;

  for (size_t m0 = m_begin; m0 < m_end; m0 += kRowChunk) {
    const size_t m1 = std::min(m0 + kRowChunk, m_end);
    for (size_t i = m0; i < m1; ++i) {
      const uint8_t* row = a + i * args.a_stride;
      row_sum[i - m0] = row_sum_s8(row, k, flip);
      if (k_rest != 0) {
        std::memset(tails[i - m0], 0, kKBlock);
        std::memcpy(tails[i - m0], row + k_blocks * kKBlock, k_rest);
      }
    }
    for (size_t n0 = n_begin; n0 < n_end; n0 += NR) {
      const size_t columns = std::min(NR, n_end - n0);
      prepare_panel(b, args.rq, n0, columns, za, &params);
      const int8_t* panel = packed + (n0 / NR) * panel_bytes;
      for (size_t i = m0; i < m1; i += MR) {
        const size_t rows = std::min(MR, m1 - i);
        auto fill = [&](auto& tile) {
          constexpr size_t kRows = sizeof(tile.a) / sizeof(tile.a[0]);
          tile.rows = rows;
          tile.k_blocks = k_blocks;
          tile.k_tail = k_rest != 0;
          tile.a_flip = flip;
          for (size_t r = 0; r < kRows; ++r) {
            const size_t row = i + std::min(r, rows - 1);
            tile.a[r] = a + row * args.a_stride;
            tile.a_tail[r] = tails[row - m0];
            tile.row_sum[r] = row_sum[row - m0];
            tile.c[r] = c + (row * args.c_stride + n0) * out_bytes;
          }
          tile.b = panel;
          tile.params = &params;
          tile.out = &out;
          tile.columns = columns;
        };
        if (rows == 1) {
          GemmTile<1, NR> tile;
          fill(tile);
          Kernels::gemv(tile);
        } else {
          GemmTile<MR, NR> tile;
          fill(tile);
          Kernels::gemm(tile);
        }
      }
    }
  }
}

// Packing for both ARM paths: pack.h's [K/kr][nr][kr] panels with K padded to a
// whole number of 16-byte blocks.
template <size_t NR, size_t KR>
void pack_panels(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
                 const std::vector<int32_t>& zero_point, PackedMatrix* out) {
  pack_u8s8_panels(b, b_signed, k, n, b_stride, zero_point, NR, KR, kKBlock, out);
}

// The GemmPath entry points of one ARM path, from its Kernels struct (kMr, kNr,
// kKr, gemm, gemv). Instantiated in each path's own translation unit.
template <class Kernels>
struct PathEntryPoints {
  static void pack(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
                   const std::vector<int32_t>& zero_point, PackedMatrix* out) {
    pack_panels<Kernels::kNr, Kernels::kKr>(b, b_signed, k, n, b_stride, zero_point, out);
  }
  static void run(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
    run_gemm<Kernels>(args, m_begin, m_end, n_begin, n_end);
  }
};

}  // namespace
}  // namespace arm
}  // namespace lowbit
