// u8 x s8 -> int32 GEMV microkernel (batch 1): 1 row x 32 columns, K grouped by 4.
// One row has only two accumulator chains, so vpdpbusd's latency would cap it
// at a fraction of its throughput; K is split over four accumulator sets (8
// chains) and summed at the end. Each B byte is used once: the loop is bound
// by streaming the panel, which the driver reads panel after panel, so the
// whole of B is one sequential stream for the hardware prefetcher.
#include <cstring>

#include "gemm-avx512vnni.h"
#include "output-stage-avx512vnni.h"

namespace lowbit {
namespace avx512vnni {
namespace {

template <bool kSignedA>
void gemv_1x32c4(size_t k, const uint8_t* a, size_t /*a_stride*/, const int8_t* w,
                 const int32_t* row_sum, const Columns& cols, const OutputStage& os, void* c,
                 size_t c_stride, size_t cols_valid) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  auto broadcast = [&](const uint8_t* p) __attribute__((always_inline)) {
    int32_t v;
    std::memcpy(&v, p, 4);
    const __m512i va = _mm512_set1_epi32(v);
    return kSignedA ? _mm512_xor_si512(va, flip) : va;
  };
  __m512i acc0[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
  __m512i acc1[2] = {acc0[0], acc0[0]}, acc2[2] = {acc0[0], acc0[0]}, acc3[2] = {acc0[0], acc0[0]};

  const size_t k_main = k & ~size_t{3};
  size_t i = 0;
  for (; i + 16 <= k_main; i += 16, w += 512) {
    const __m512i a0 = broadcast(a + i), a1 = broadcast(a + i + 4);
    const __m512i a2 = broadcast(a + i + 8), a3 = broadcast(a + i + 12);
    acc0[0] = _mm512_dpbusd_epi32(acc0[0], a0, _mm512_load_si512(w));
    acc0[1] = _mm512_dpbusd_epi32(acc0[1], a0, _mm512_load_si512(w + 64));
    acc1[0] = _mm512_dpbusd_epi32(acc1[0], a1, _mm512_load_si512(w + 128));
    acc1[1] = _mm512_dpbusd_epi32(acc1[1], a1, _mm512_load_si512(w + 192));
    acc2[0] = _mm512_dpbusd_epi32(acc2[0], a2, _mm512_load_si512(w + 256));
    acc2[1] = _mm512_dpbusd_epi32(acc2[1], a2, _mm512_load_si512(w + 320));
    acc3[0] = _mm512_dpbusd_epi32(acc3[0], a3, _mm512_load_si512(w + 384));
    acc3[1] = _mm512_dpbusd_epi32(acc3[1], a3, _mm512_load_si512(w + 448));
  }
  for (; i < k_main; i += 4, w += 128) {
    const __m512i a0 = broadcast(a + i);
    acc1[0] = _mm512_dpbusd_epi32(acc1[0], a0, _mm512_load_si512(w));
    acc1[1] = _mm512_dpbusd_epi32(acc1[1], a0, _mm512_load_si512(w + 64));
  }
  if (k & 3) {
    // Masked: never reads past the end of A (B is zero-padded there).
    const __mmask16 tail = static_cast<__mmask16>((1u << (k & 3)) - 1);
    __m512i a0 = _mm512_broadcastd_epi32(_mm_maskz_loadu_epi8(tail, a + k_main));
    if (kSignedA) a0 = _mm512_xor_si512(a0, flip);
    acc2[0] = _mm512_dpbusd_epi32(acc2[0], a0, _mm512_load_si512(w));
    acc2[1] = _mm512_dpbusd_epi32(acc2[1], a0, _mm512_load_si512(w + 64));
  }
  __m512i acc[1][2];
  acc[0][0] = _mm512_add_epi32(_mm512_add_epi32(acc0[0], acc1[0]), _mm512_add_epi32(acc2[0], acc3[0]));
  acc[0][1] = _mm512_add_epi32(_mm512_add_epi32(acc0[1], acc1[1]), _mm512_add_epi32(acc2[1], acc3[1]));
  finish_tile<1>(acc, row_sum, cols, os, c, c_stride, cols_valid);
}

}  // namespace

const TileKernel kGemv1x32c4[2] = {gemv_1x32c4<false>, gemv_1x32c4<true>};

}  // namespace avx512vnni
}  // namespace lowbit
