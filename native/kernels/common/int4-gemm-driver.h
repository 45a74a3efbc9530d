// The loop nest shared by the int4 GEMM paths (lowbit/int4_gemm.h). Each ISA
// supplies a Kernel with:
//   kMaxRows                     rows per call that share each unpacked weight vector
//   tiles_for<MR>()              tiles per call for MR rows (more tiles for few rows:
//                                the k chain of one accumulator is serial, so a GEMV
//                                needs several tiles in flight to hide FMA latency)
//   run<MR, NT>(args, i0, t0)    rows [i0, i0 + MR) x tiles [t0, t0 + NT)
// A row or tile count changes which registers hold a lane, never what a lane
// computes, so every split gives the same bits.
#pragma once

#include <algorithm>
#include <cstddef>

#include "lowbit/int4_gemm.h"

namespace lowbit {

template <class Kernel>
struct Int4GemmDriver {
  // Packed weights of the tiles one pass over the rows re-reads (kept in L2).
  static constexpr size_t kTileChunkBytes = 256 * 1024;

  static void gemm(const Int4GemmArgs& args, size_t m0, size_t m1, size_t t0, size_t t1) {
    const PackedInt4Matrix& w = *args.w;
    const size_t tile_bytes = w.pairs() * kInt4PairBytes + (w.blocks + 1) * kInt4TileN * sizeof(float);
    // One pass over the rows (M <= kMaxRows, a GEMV) re-reads nothing: no chunks.
    const size_t chunk = m1 - m0 <= Kernel::kMaxRows ? t1 - t0 : std::max<size_t>(1, kTileChunkBytes / tile_bytes);
    for (size_t c0 = t0; c0 < t1; c0 += chunk) {
      const size_t c1 = std::min(t1, c0 + chunk);
      size_t i = m0;
      for (; i + Kernel::kMaxRows <= m1; i += Kernel::kMaxRows) rows<Kernel::kMaxRows>(args, i, c0, c1);
      if (i < m1) tail<Kernel::kMaxRows - 1>(args, i, m1 - i, c0, c1);
    }
  }

 private:
  template <size_t MR>
  static void rows(const Int4GemmArgs& args, size_t i0, size_t t0, size_t t1) {
    tiles<MR, Kernel::template tiles_for<MR>()>(args, i0, t0, t1);
  }

  // NT tiles per call while they last, then the rest with NT/2, ... 1.
  template <size_t MR, size_t NT>
  static void tiles(const Int4GemmArgs& args, size_t i0, size_t t0, size_t t1) {
    size_t t = t0;
    for (; t + NT <= t1; t += NT) Kernel::template run<MR, NT>(args, i0, t);
    if constexpr (NT > 1) {
      if (t < t1) tiles<MR, NT / 2>(args, i0, t, t1);
    }
  }

  template <size_t R>
  static void tail(const Int4GemmArgs& args, size_t i0, size_t count, size_t t0, size_t t1) {
    if constexpr (R > 0) {
      if (count == R) {
        rows<R>(args, i0, t0, t1);
      } else {
        tail<R - 1>(args, i0, count, t0, t1);
      }
    }
  }
};

}  // namespace lowbit
