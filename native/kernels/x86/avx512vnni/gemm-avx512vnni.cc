// The AVX512-VNNI GEMM path: weight packing and the driver that tiles a call
// over the microkernels. See gemm-avx512vnni.h for the tile shape.
//
// Blocking: B is split into column blocks whose packed K x nc slab fits in L2;
// within a block, every 8-row tile of A (8 x K bytes, L1-resident) runs over
// all of the block's panels, so each panel streams from L2 once per row tile
// and each A row from L1. No K blocking: each tile accumulates the whole K in
// registers and goes straight through the output stage.
//
// Correction (pack.h): C = dot(A_eff, B') + offset[n] - zb'[n] * rowsum(A_eff)[m],
// offset[n] = K*za_eff*zb'[n] - za_eff*colsum(B')[n] (+ bias[n] when requantizing;
// every step wraps, so the order of the additions does not matter).
#include <algorithm>
#include <cstring>

#include "gemm-avx512vnni.h"
#include "lowbit/gemm.h"
#include "lowbit/pack.h"

namespace lowbit {
namespace avx512vnni {
namespace {

using x86::BlockArrays;

void pack(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
          const std::vector<int32_t>& zero_point, PackedMatrix* out) {
  pack_u8s8_panels(b, b_signed, k, n, b_stride, zero_point, kNr, kKr, kKr, out);
}

// Sum of the K bytes of one row of A_eff (wrapping int32).
int32_t row_sum(const uint8_t* a, size_t k, bool a_signed) {
  const __m512i flip = _mm512_set1_epi8(a_signed ? static_cast<char>(0x80) : 0);
  const __m512i zero = _mm512_setzero_si512();
  __m512i acc = zero;
  size_t i = 0;
  for (; i + 64 <= k; i += 64) {
    const __m512i v = _mm512_xor_si512(_mm512_loadu_si512(a + i), flip);
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, zero));
  }
  if (i < k) {
    // Flip only the loaded bytes: the masked-off ones must stay zero.
    const __mmask64 tail = (~uint64_t{0}) >> (64 - (k - i));
    const __m512i loaded = _mm512_maskz_loadu_epi8(tail, a + i);
    const __m512i v = _mm512_maskz_mov_epi8(tail, _mm512_xor_si512(loaded, flip));
    acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, zero));
  }
  return static_cast<int32_t>(_mm512_reduce_add_epi64(acc));
}

// A per-tensor value broadcast, or 16 per-column values (zero past `valid`).
inline __m512i param_i32(const std::vector<int32_t>& v, bool per_tensor, size_t col, __mmask16 valid) {
  return per_tensor ? _mm512_set1_epi32(v[0]) : _mm512_maskz_loadu_epi32(valid, v.data() + col);
}

// Fills the per-column arrays for columns [n0, n0 + count), padded to whole
// panels; returns whether any zb' of the block is non-zero (row sums needed).
bool prepare_block(const PackedMatrix& b, const Requantization* rq, int32_t za_eff, size_t n0,
                   size_t count, BlockArrays* out) {
  const size_t padded = (count + kNr - 1) / kNr * kNr;
  const __m512i za = _mm512_set1_epi32(za_eff);
  const __m512i kza = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(b.k) *
                                                             static_cast<uint32_t>(za_eff)));
  // As requantize_one: the multiplier's count decides for the shift too.
  const bool fixed_per_tensor = rq != nullptr && rq->multiplier.size() == 1;
  __mmask16 any_zb = 0;
  for (size_t j = 0; j < padded; j += 16) {
    const size_t col = n0 + j;
    const size_t left = count > j ? count - j : 0;
    const __mmask16 valid = static_cast<__mmask16>(left >= 16 ? 0xFFFF : (1u << left) - 1);
    const __m512i colsum = _mm512_maskz_loadu_epi32(valid, b.column_sum.data() + col);
    const __m512i zb = _mm512_maskz_loadu_epi32(valid, b.zero_point_s8.data() + col);
    any_zb |= _mm512_test_epi32_mask(zb, zb);
    __m512i offset = _mm512_sub_epi32(_mm512_mullo_epi32(zb, kza), _mm512_mullo_epi32(colsum, za));
    if (rq != nullptr && !rq->bias.empty()) {
      const __m512i bias = param_i32(rq->bias, rq->bias.size() == 1, col, valid);
      offset = _mm512_add_epi32(offset, _mm512_maskz_mov_epi32(valid, bias));
    }
    _mm512_store_si512(out->offset + j, offset);
    _mm512_store_si512(out->zb + j, zb);
    if (rq == nullptr) continue;
    if (rq->mode == RequantMode::kFp32) {
      const __m512 s = rq->scale.size() == 1 ? _mm512_set1_ps(rq->scale[0])
                                             : _mm512_maskz_loadu_ps(valid, rq->scale.data() + col);
      _mm512_store_ps(out->scale + j, s);
    } else {
      const __m512i shift = param_i32(rq->shift, fixed_per_tensor, col, valid);
      const __m512i right = _mm512_max_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), shift),
                                             _mm512_setzero_si512());
      _mm512_store_si512(out->multiplier + j, param_i32(rq->multiplier, fixed_per_tensor, col, valid));
      _mm512_store_si512(out->left_shift + j, _mm512_max_epi32(shift, _mm512_setzero_si512()));
      _mm512_store_si512(out->right_shift + j, right);
      _mm512_store_si512(out->round_mask + j,
                         _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), right),
                                          _mm512_set1_epi32(1)));
    }
  }
  return any_zb != 0;
}

void run(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  if (m_begin >= m_end || n_begin >= n_end) return;
  const PackedMatrix& b = *args.b;
  const Requantization* rq = args.rq;
  const size_t k = b.k;
  const size_t kp = packed_k(k, kKr);
  const bool a_signed = args.a_signed;
  const int32_t za_eff = static_cast<int32_t>(static_cast<uint32_t>(args.a_zero_point) +
                                              (a_signed ? 128u : 0u));

  const OutputStage os = x86::make_output_stage(rq);
  const size_t out_bytes = rq == nullptr ? sizeof(int32_t) : 1;
  const auto* a_base = static_cast<const uint8_t*>(args.a);
  auto* c_base = static_cast<uint8_t*>(args.c);
  const auto* w_base = static_cast<const int8_t*>(b.data.data());

  const size_t block = x86::block_columns(kp, kNr);
  BlockArrays arrays;
  const Columns columns = arrays.columns();
  int32_t sums[kMr];
  for (size_t n0 = n_begin; n0 < n_end; n0 += block) {
    const size_t n1 = std::min(n_end, n0 + block);
    const bool need_rows = prepare_block(b, rq, za_eff, n0, n1 - n0, &arrays);
    x86::for_each_row_tile(m_begin, m_end, kMr, [&](size_t m0, size_t rows) {
      const uint8_t* a = a_base + m0 * args.a_stride;
      if (need_rows) {
        for (size_t r = 0; r < rows; ++r) sums[r] = row_sum(a + r * args.a_stride, k, a_signed);
      }
      const TileKernel kernel = rows == 1 ? kGemv1x32c4[a_signed] : kGemmMrx32c4[a_signed][rows];
      for (size_t p = n0; p < n1; p += kNr) {
        kernel(k, a, args.a_stride, w_base + (p / kNr) * kp * kNr, need_rows ? sums : nullptr,
               columns.at(p - n0), os, c_base + (m0 * args.c_stride + p) * out_bytes,
               args.c_stride, std::min(kNr, n1 - p));
      }
    });
  }
}

}  // namespace

extern const GemmPath kGemmPath = {Isa::kAvx512Vnni, kNr, kMr, pack, run};

}  // namespace avx512vnni
}  // namespace lowbit
