// The fp32 GEMM tile and depthwise kernels, written once over a small "Ops"
// struct of vector operations and instantiated in each ISA's translation unit
// (compiled with that ISA's flags), like XNNPACK's templates that generate one
// microkernel per tile shape and ISA.
//
// Ops provides: V (vector type), kLanes, load / load_partial (zeros past n,
// never touching memory past p + n) / broadcast / fma(acc, a, b) = acc + a * b /
// add / mul / min / max (NaN in the second operand propagates) / set1 / store /
// store_partial, and the depthwise run lengths its registers allow
// (kDwPixels accumulators; kDwReusePixels accumulators plus their inputs).
//
// GEMM tile (MR rows x NV vectors): accumulators start at the bias; for each tap
// t and k < kc, one FMA per element with A[r][t*kc + k] broadcast and a row of
// the packed panel, so every element sums its products in k order. The
// epilogue runs on the accumulators before they are stored.
//
// Depthwise: per channel block and run of output rows, the input rows are
// copied once into an aligned, zero-padded scratch (an NCHWc-like block, so
// channel counts that are not a multiple of the vector width cost no split
// loads); then runs of output pixels share each weight vector load, with fixed
// offsets for strides 1 and 2, and for 3- and 5-wide filters (dilation 1) each
// filter row's inputs are loaded once into registers for all its taps. Filter
// rows wholly in the top or bottom padding are skipped; the others sum every
// tap (left/right padding reads zeros), bias first, kh then kw in order.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "lowbit/conv_f32.h"
#include "lowbit/gemm_f32.h"

namespace lowbit {
namespace f32 {

// A std::vector allocator for 64-byte aligned scratch.
template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};

// The epilogue's constants, prepared once per call (XNNPACK's microparams).
template <class Ops>
struct Act {
  using V = typename Ops::V;
  F32Activation kind;
  V lo, hi, alpha, beta, zero, one, three, six, sixth;
  explicit Act(const F32Epilogue& e)
      : kind(e.kind), lo(Ops::set1(e.min)), hi(Ops::set1(e.max)), alpha(Ops::set1(e.alpha)),
        beta(Ops::set1(e.beta)), zero(Ops::set1(0.0f)), one(Ops::set1(1.0f)), three(Ops::set1(3.0f)),
        six(Ops::set1(6.0f)), sixth(Ops::set1(1.0f / 6.0f)) {}
};

template <class Ops, F32Activation A>
inline typename Ops::V activate(const Act<Ops>& s, typename Ops::V x) {
  using V = typename Ops::V;
  if constexpr (A == F32Activation::kNone) {
    return x;
  } else if constexpr (A == F32Activation::kClip) {
    return Ops::min(s.hi, Ops::max(s.lo, x));
  } else if constexpr (A == F32Activation::kHardSwish) {
    const V t = Ops::min(s.six, Ops::max(s.zero, Ops::add(x, s.three)));
    return Ops::mul(Ops::mul(x, t), s.sixth);
  } else {
    const V t = Ops::add(Ops::mul(s.alpha, x), s.beta);
    return Ops::min(s.one, Ops::max(s.zero, t));
  }
}

// Calls f(std::integral_constant<F32Activation, kind>) for the runtime kind, so
// the store loops are compiled once per activation with no branch inside.
template <class F>
inline void with_activation(F32Activation kind, F&& f) {
  switch (kind) {
    case F32Activation::kNone: f(std::integral_constant<F32Activation, F32Activation::kNone>{}); break;
    case F32Activation::kClip: f(std::integral_constant<F32Activation, F32Activation::kClip>{}); break;
    case F32Activation::kHardSwish: f(std::integral_constant<F32Activation, F32Activation::kHardSwish>{}); break;
    case F32Activation::kHardSigmoid: f(std::integral_constant<F32Activation, F32Activation::kHardSigmoid>{}); break;
  }
}

// ---------------------------------------------------------------- GEMM

using TileFn = void (*)(size_t kc, size_t ks, const float* const* a, const float* w, const float* bias,
                        float* c, size_t c_stride, size_t nc, const void* act);

// a: [MR][ks] row pointers (one per row and tap); w: the panel (kc*ks rows of
// NV*kLanes floats); nc: valid columns (<= NV*kLanes).
template <class Ops, size_t MR, size_t NV>
void gemm_tile(size_t kc, size_t ks, const float* const* a, const float* w, const float* bias, float* c,
               size_t c_stride, size_t nc, const void* act_ptr) {
  using V = typename Ops::V;
  constexpr size_t L = Ops::kLanes;
  const Act<Ops>& act = *static_cast<const Act<Ops>*>(act_ptr);
  V acc[MR][NV];
#pragma GCC unroll 16
  for (size_t v = 0; v < NV; ++v) {
    const V b = Ops::load(bias + v * L);
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) acc[r][v] = b;
  }
  for (size_t t = 0; t < ks; ++t) {
    const float* ar[MR];
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) ar[r] = a[r * ks + t];
    for (size_t k = 0; k < kc; ++k) {
      V b[NV];
#pragma GCC unroll 16
      for (size_t v = 0; v < NV; ++v) b[v] = Ops::load(w + v * L);
      w += NV * L;
#pragma GCC unroll 16
      for (size_t r = 0; r < MR; ++r) {
        const V x = Ops::broadcast(ar[r] + k);
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) acc[r][v] = Ops::fma(acc[r][v], x, b[v]);
      }
    }
  }
  with_activation(act.kind, [&](auto kind) {
    constexpr F32Activation A = decltype(kind)::value;
#pragma GCC unroll 16
    for (size_t r = 0; r < MR; ++r) {
      float* cr = c + r * c_stride;
      if (nc == NV * L) {
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) Ops::store(cr + v * L, activate<Ops, A>(act, acc[r][v]));
      } else {
#pragma GCC unroll 16
        for (size_t v = 0; v < NV; ++v) {
          const size_t col = v * L;
          if (col + L <= nc) {
            Ops::store(cr + col, activate<Ops, A>(act, acc[r][v]));
          } else if (col < nc) {
            Ops::store_partial(cr + col, activate<Ops, A>(act, acc[r][v]), nc - col);
          }
        }
      }
    }
  });
}

// [mr - 1] -> tile of mr rows; narrow (one vector) and wide (two vectors) panels.
template <class Ops, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> narrow_tiles(std::index_sequence<I...>) {
  return {&gemm_tile<Ops, I + 1, 1>...};
}
template <class Ops, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> wide_tiles(std::index_sequence<I...>) {
  return {&gemm_tile<Ops, I + 1, 2>...};
}

// Bytes of packed B a column block may span, so that its panels stay in L2
// while every row tile of A passes over them.
constexpr size_t kL2BlockBytes = size_t{256} << 10;

// The path's GEMM entry point: rows [m0, m1) x columns [n0, n1); panels are
// 2 * kLanes wide (nr), the last one may be kLanes wide.
template <class Ops, size_t MR>
void gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1) {
  static constexpr auto kNarrow = narrow_tiles<Ops>(std::make_index_sequence<MR>{});
  static constexpr auto kWide = wide_tiles<Ops>(std::make_index_sequence<MR>{});
  const PackedF32Matrix& b = *args.b;
  const size_t nr = b.nr;
  const size_t ks = args.indirection != nullptr ? args.ks : 1;
  const size_t kc = b.k / ks;
  thread_local std::vector<const float*> ptrs;
  if (ptrs.size() < ks * MR) ptrs.resize(ks * MR);
  const Act<Ops> act(args.epilogue);
  const size_t p_first = n0 / nr, p_end = (n1 + nr - 1) / nr;
  const size_t panel_bytes = b.k * nr * sizeof(float);
  const size_t block = std::max<size_t>(1, kL2BlockBytes / (panel_bytes == 0 ? 1 : panel_bytes));
  for (size_t pb = p_first; pb < p_end; pb += block) {
    const size_t pe = std::min(p_end, pb + block);
    for (size_t i = m0; i < m1; i += MR) {
      const size_t mr = std::min(MR, m1 - i);
      const float** pp = ptrs.data();
      if (args.indirection == nullptr) {
        for (size_t r = 0; r < mr; ++r) pp[r] = args.a + (i + r) * args.a_stride;
      } else {
        const size_t* row = args.indirection + i * ks;
        for (size_t j = 0; j < mr * ks; ++j) {
          pp[j] = row[j] == kF32PaddingTap ? args.zero : reinterpret_cast<const float*>(args.a_base + row[j]);
        }
      }
      float* c_row = args.c + i * args.c_stride;
      for (size_t p = pb; p < pe; ++p) {
        const size_t col = p * nr;
        const size_t nc = std::min(n1, col + nr) - col;
        const TileFn fn = b.panel_width(p) == nr ? kWide[mr - 1] : kNarrow[mr - 1];
        fn(kc, ks, pp, b.panel(p), b.bias_at(col), c_row + col, args.c_stride, nc, &act);
      }
    }
  }
}

// ---------------------------------------------------------------- depthwise

// Floats of padded scratch a row tile may take (96 KiB, mostly L1/L2 resident).
constexpr size_t kDwScratchFloats = size_t{24} << 10;

// PIX output pixels of one channel block from the padded scratch: x points at
// the first pixel's tap (0, 0); taps step by dh_step rows and dw_step floats,
// pixels by SW * kLanes floats (SW = 0: by sw_step, a runtime stride).
template <class Ops, size_t PIX, size_t SW, F32Activation A>
__attribute__((always_inline)) inline void dw_pixels(const float* x, size_t kh_count, size_t kw_count, size_t dh_step,
                                                     size_t dw_step, size_t sw_step, const float* wb, size_t ws,
                                                     const typename Ops::V bias, float* out, size_t c, size_t nch,
                                                     const Act<Ops>& act) {
  using V = typename Ops::V;
  constexpr size_t L = Ops::kLanes;
  const size_t step = SW != 0 ? SW * L : sw_step;
  V acc[PIX];
#pragma GCC unroll 16
  for (size_t q = 0; q < PIX; ++q) acc[q] = bias;
  for (size_t kh = 0; kh < kh_count; ++kh) {
    const float* r = x + kh * dh_step;
    const float* wk = wb + kh * kw_count * ws;
    for (size_t kw = 0; kw < kw_count; ++kw) {
      const V wv = Ops::load(wk + kw * ws);
      const float* xk = r + kw * dw_step;
#pragma GCC unroll 16
      for (size_t q = 0; q < PIX; ++q) acc[q] = Ops::fma(acc[q], Ops::load(xk + q * step), wv);
    }
  }
  if (nch == L) {
#pragma GCC unroll 16
    for (size_t q = 0; q < PIX; ++q) Ops::store(out + q * c, activate<Ops, A>(act, acc[q]));
  } else {
#pragma GCC unroll 16
    for (size_t q = 0; q < PIX; ++q) Ops::store_partial(out + q * c, activate<Ops, A>(act, acc[q]), nch);
  }
}

// The same for a filter width KW known at compile time and dilation 1: each
// filter row's (PIX - 1) * SW + KW input vectors are loaded once into registers
// and reused by every kw tap (about 0.4 loads per FMA instead of 1.1).
template <class Ops, size_t PIX, size_t SW, size_t KW, F32Activation A>
__attribute__((always_inline)) inline void dw_pixels_kw(const float* x, size_t kh_count, size_t dh_step,
                                                        const float* wb, size_t ws, const typename Ops::V bias, float* out,
                                                        size_t c, size_t nch, const Act<Ops>& act) {
  using V = typename Ops::V;
  constexpr size_t L = Ops::kLanes;
  constexpr size_t N = (PIX - 1) * SW + KW;
  V acc[PIX];
#pragma GCC unroll 16
  for (size_t q = 0; q < PIX; ++q) acc[q] = bias;
  for (size_t kh = 0; kh < kh_count; ++kh) {
    const float* r = x + kh * dh_step;
    const float* wk = wb + kh * KW * ws;
    V in[N];
#pragma GCC unroll 32
    for (size_t i = 0; i < N; ++i) in[i] = Ops::load(r + i * L);
#pragma GCC unroll 8
    for (size_t kw = 0; kw < KW; ++kw) {
      const V wv = Ops::load(wk + kw * ws);
#pragma GCC unroll 16
      for (size_t q = 0; q < PIX; ++q) acc[q] = Ops::fma(acc[q], in[q * SW + kw], wv);
    }
  }
  if (nch == L) {
#pragma GCC unroll 16
    for (size_t q = 0; q < PIX; ++q) Ops::store(out + q * c, activate<Ops, A>(act, acc[q]));
  } else {
#pragma GCC unroll 16
    for (size_t q = 0; q < PIX; ++q) Ops::store_partial(out + q * c, activate<Ops, A>(act, acc[q]), nch);
  }
}

template <class Ops, size_t SW, size_t KW, F32Activation A>
void dw_row_kw(const float* x, size_t out_w, size_t kh_count, size_t dh_step, size_t sw_step, const float* wb,
               size_t ws, const typename Ops::V bias, float* out, size_t c, size_t nch, const Act<Ops>& act) {
  constexpr size_t P = Ops::kDwReusePixels;
  size_t ow = 0;
  for (; ow + P <= out_w; ow += P) {
    dw_pixels_kw<Ops, P, SW, KW, A>(x + ow * sw_step, kh_count, dh_step, wb, ws, bias, out + ow * c, c, nch, act);
  }
  for (; ow < out_w; ++ow) {
    dw_pixels_kw<Ops, 1, SW, KW, A>(x + ow * sw_step, kh_count, dh_step, wb, ws, bias, out + ow * c, c, nch, act);
  }
}

// One output row of one channel block, in runs of kDwPixels (the path's
// register budget: 16 with 32 vector registers, else 8), then 4, then 1.
template <class Ops, size_t SW, F32Activation A>
void dw_row(const float* x, size_t out_w, size_t kh_count, size_t kw_count, size_t dh_step, size_t dw_step,
            size_t sw_step, const float* wb, size_t ws, const typename Ops::V bias, float* out, size_t c, size_t nch,
            const Act<Ops>& act) {
  constexpr size_t P = Ops::kDwPixels;
  size_t ow = 0;
  for (; ow + P <= out_w; ow += P) {
    dw_pixels<Ops, P, SW, A>(x + ow * sw_step, kh_count, kw_count, dh_step, dw_step, sw_step, wb, ws, bias, out + ow * c, c,
                             nch, act);
  }
  if (P > 8 && ow + 8 <= out_w) {
    dw_pixels<Ops, (P > 8 ? 8 : 1), SW, A>(x + ow * sw_step, kh_count, kw_count, dh_step, dw_step, sw_step, wb, ws, bias,
                                          out + ow * c, c, nch, act);
    ow += P > 8 ? 8 : 1;
  }
  if (ow + 4 <= out_w) {
    dw_pixels<Ops, 4, SW, A>(x + ow * sw_step, kh_count, kw_count, dh_step, dw_step, sw_step, wb, ws, bias, out + ow * c, c,
                             nch, act);
    ow += 4;
  }
  for (; ow < out_w; ++ow) {
    dw_pixels<Ops, 1, SW, A>(x + ow * sw_step, kh_count, kw_count, dh_step, dw_step, sw_step, wb, ws, bias, out + ow * c, c,
                             nch, act);
  }
}

template <class Ops, F32Activation A>
void dw_row_any_stride(size_t stride_w, const float* x, size_t out_w, size_t kh_count, size_t kw_count,
                       size_t dh_step, size_t dw_step, size_t sw_step, const float* wb, size_t ws,
                       const typename Ops::V bias, float* out, size_t c, size_t nch, const Act<Ops>& act) {
  // Register-reuse kernels for 3- and 5-wide filters, dilation 1 (dw_step == kLanes).
  if (dw_step == Ops::kLanes && (stride_w == 1 || stride_w == 2) && (kw_count == 3 || kw_count == 5)) {
    auto run = [&](auto sw, auto kw) {
      dw_row_kw<Ops, decltype(sw)::value, decltype(kw)::value, A>(x, out_w, kh_count, dh_step, sw_step, wb, ws, bias,
                                                                    out, c, nch, act);
    };
    using One = std::integral_constant<size_t, 1>;
    using Two = std::integral_constant<size_t, 2>;
    using Three = std::integral_constant<size_t, 3>;
    using Five = std::integral_constant<size_t, 5>;
    if (stride_w == 1) {
      kw_count == 3 ? run(One{}, Three{}) : run(One{}, Five{});
    } else {
      kw_count == 3 ? run(Two{}, Three{}) : run(Two{}, Five{});
    }
    return;
  }
  if (stride_w == 1) {
    dw_row<Ops, 1, A>(x, out_w, kh_count, kw_count, dh_step, dw_step, sw_step, wb, ws, bias, out, c, nch, act);
  } else if (stride_w == 2) {
    dw_row<Ops, 2, A>(x, out_w, kh_count, kw_count, dh_step, dw_step, sw_step, wb, ws, bias, out, c, nch, act);
  } else {
    dw_row<Ops, 0, A>(x, out_w, kh_count, kw_count, dh_step, dw_step, sw_step, wb, ws, bias, out, c, nch, act);
  }
}

// The path's depthwise entry point: output rows [oh0, oh1) of one image. Per
// channel block and run of output rows, the input rows they read are copied
// into an aligned scratch with the padding as zeros ([rows][pl + w + pr][kLanes]),
// so the taps read aligned vectors at fixed offsets and need no bounds checks.
// Channels [c0, c1) in blocks of kLanes; c0 must be a multiple of kLanes and
// the packed block width (w.cb) a multiple of kLanes, so each block lies in
// one packed block (a 256-bit tail after 512-bit blocks, say).
template <class Ops>
void depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1, size_t c0, size_t c1) {
  using V = typename Ops::V;
  constexpr size_t L = Ops::kLanes;
  const Conv2dParams& p = *args.p;
  const PackedF32Depthwise& w = *args.w;
  const size_t c = p.c, kh_count = w.kh, kw_count = w.kw;
  const Act<Ops> act(args.epilogue);
  const size_t width = p.w, pad_left = p.pad_left;
  const size_t wp = pad_left + width + p.pad_right;  // padded row, in pixels
  const size_t row_floats = wp * L;
  const size_t span_h = (kh_count - 1) * p.dilation_h;
  // Output rows per tile: as many as keep the scratch within budget (at least one).
  const size_t budget_rows = std::max<size_t>(span_h + 1, kDwScratchFloats / row_floats);
  const size_t tile = std::max<size_t>(1, (budget_rows - span_h - 1) / p.stride_h + 1);
  const size_t max_rows = (std::min(tile, oh1 - oh0) - 1) * p.stride_h + span_h + 1;
  thread_local std::vector<float, AlignedAllocator<float>> scratch;
  if (scratch.size() < max_rows * row_floats) scratch.resize(max_rows * row_floats);
  float* buf = scratch.data();
  const float* in = args.in + image * p.h * p.w * c;
  float* out = args.out + image * args.out_h * args.out_w * c;
  const V zero = Ops::set1(0.0f);
  const size_t dh_step = p.dilation_h * row_floats, dw_step = p.dilation_w * L, sw_step = p.stride_w * L;
  const size_t ws = w.cb;
  for (size_t ch = c0; ch < c1; ch += L) {
    const size_t nch = std::min(L, c1 - ch);
    const float* wb = w.block_weights(ch / w.cb) + ch % w.cb;
    const V bias = Ops::load(w.block_bias(ch / w.cb) + ch % w.cb);
    for (size_t t0 = oh0; t0 < oh1; t0 += tile) {
      const size_t t1 = std::min(oh1, t0 + tile);
      const size_t rows = (t1 - 1 - t0) * p.stride_h + span_h + 1;
      const ptrdiff_t ih0 = static_cast<ptrdiff_t>(t0 * p.stride_h) - static_cast<ptrdiff_t>(p.pad_top);
      for (size_t r = 0; r < rows; ++r) {
        float* dst = buf + r * row_floats;
        const ptrdiff_t ih = ih0 + static_cast<ptrdiff_t>(r);
        if (ih < 0 || ih >= static_cast<ptrdiff_t>(p.h)) continue;  // padding rows: skipped, never read
        for (size_t i = 0; i < pad_left; ++i) Ops::store(dst + i * L, zero);
        const float* src = in + static_cast<size_t>(ih) * width * c + ch;
        float* d = dst + pad_left * L;
        if (nch == L) {
          size_t i = 0;
          for (; i + 4 <= width; i += 4) {
            const V a = Ops::load(src + i * c), b = Ops::load(src + (i + 1) * c);
            const V e = Ops::load(src + (i + 2) * c), f = Ops::load(src + (i + 3) * c);
            Ops::store(d + i * L, a);
            Ops::store(d + (i + 1) * L, b);
            Ops::store(d + (i + 2) * L, e);
            Ops::store(d + (i + 3) * L, f);
          }
          for (; i < width; ++i) Ops::store(d + i * L, Ops::load(src + i * c));
        } else {
          for (size_t i = 0; i < width; ++i) Ops::store(d + i * L, Ops::load_partial(src + i * c, nch));
        }
        for (size_t i = pad_left + width; i < wp; ++i) Ops::store(dst + i * L, zero);
      }
      for (size_t oh = t0; oh < t1; ++oh) {
        // Filter rows that fall into the top or bottom padding are skipped.
        const ptrdiff_t top = static_cast<ptrdiff_t>(oh * p.stride_h) - static_cast<ptrdiff_t>(p.pad_top);
        const ptrdiff_t dh = static_cast<ptrdiff_t>(p.dilation_h), hh = static_cast<ptrdiff_t>(p.h);
        const size_t kh_lo = top >= 0 ? 0 : static_cast<size_t>((-top + dh - 1) / dh);
        const size_t kh_hi = top >= hh ? 0 : std::min<size_t>(kh_count, static_cast<size_t>((hh - 1 - top) / dh + 1));
        const size_t kh_n = kh_hi > kh_lo ? kh_hi - kh_lo : 0;
        const float* x = buf + ((oh - t0) * p.stride_h + kh_lo * p.dilation_h) * row_floats;
        const float* wk = wb + kh_lo * kw_count * ws;
        float* o = out + oh * args.out_w * c + ch;
        with_activation(act.kind, [&](auto kind) {
          dw_row_any_stride<Ops, decltype(kind)::value>(p.stride_w, x, args.out_w, kh_n, kw_count, dh_step, dw_step,
                                                        sw_step, wk, ws, bias, o, c, nch, act);
        });
      }
    }
  }
}

}  // namespace f32
}  // namespace lowbit
