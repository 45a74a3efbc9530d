// The int8 convolution driver (lowbit/conv_s8.h): packs ONNX-layout weights for
// the depthwise kernel or as one GEMM matrix per group, and runs a call as the
// depthwise kernel, a direct GEMM over the input rows (1x1, stride 1, no
// padding) or im2col chunks feeding the GEMM. ISA-independent: the vector work
// happens in the GEMM and depthwise paths it calls.
#include <algorithm>
#include <cstring>

#include "lowbit/conv_s8.h"
#include "lowbit/thread_pool.h"

namespace lowbit {

void pack_conv_s8(Isa isa, const void* w, bool w_signed, size_t m, size_t cg, size_t kh, size_t kw,
                  size_t groups, const std::vector<int32_t>& zero_point, PackedConvS8* out) {
  out->isa = isa;
  out->m = m;
  out->cg = cg;
  out->kh = kh;
  out->kw = kw;
  out->groups = groups;
  out->w_signed = w_signed;
  out->zero_point = zero_point;
  out->depthwise = cg == 1 && m == groups;
  out->group_b.clear();
  out->small_m = false;
  if (out->depthwise) {
    pack_depthwise(depthwise_path(isa), w, w_signed, m, kh, kw, zero_point, &out->dw);
    return;
  }
  const GemmPath& path = *gemm_path(isa);
  const size_t mg = m / groups, taps = kh * kw, k = taps * cg;
  const auto* src = static_cast<const uint8_t*>(w);
  std::vector<uint8_t> b(k * mg);
  out->group_b.resize(groups);
  for (size_t g = 0; g < groups; ++g) {
    // B_g[(tap * cg + ci)][j] = w[g*mg + j][ci][tap]: taps outer, channels inner,
    // the order im2col (and a 1x1 conv's input row) presents them in.
    for (size_t j = 0; j < mg; ++j) {
      for (size_t ci = 0; ci < cg; ++ci) {
        for (size_t t = 0; t < taps; ++t) {
          b[(t * cg + ci) * mg + j] = src[((g * mg + j) * cg + ci) * taps + t];
        }
      }
    }
    std::vector<int32_t> zp;
    if (zero_point.size() == 1) zp = zero_point;
    else if (zero_point.size() == m) zp.assign(zero_point.begin() + g * mg, zero_point.begin() + (g + 1) * mg);
    pack_matrix(path, b.data(), w_signed, k, mg, mg, zp, &out->group_b[g]);
  }
  if (small_m_applies(isa, w, w_signed, m, cg, kh, kw, groups, zero_point)) {
    out->small_m = true;
    pack_small_m(w, w_signed, m, cg, kh, kw, zero_point, &out->sm);
  }
}

namespace {
// One group's share of per-channel parameters (per-tensor ones are kept).
template <class T>
std::vector<T> slice(const std::vector<T>& v, size_t m, size_t begin, size_t count) {
  if (v.size() != m || m == count) return v;
  return std::vector<T>(v.begin() + begin, v.begin() + begin + count);
}
}  // namespace

// When a 1x1 convolution takes the small-m kernels rather than the direct GEMM.
constexpr size_t kSmallMDirectMaxChannels = 8;
constexpr size_t kSmallMDirectMinPixels = 256;

void prepare_conv_s8(const PackedConvS8& w, size_t n, size_t h, size_t wd, const Conv2dGeometry& g,
                     bool x_signed, int32_t x_zero_point, const Requantization* rq, ConvS8Plan* out) {
  ConvS8Plan& p = *out;
  p.n = n;
  p.h = h;
  p.w = wd;
  p.c = w.channels();
  p.geometry = g;
  p.oh = g.out_h(h);
  p.ow = g.out_w(wd);
  p.x_signed = x_signed;
  p.x_zero_point = x_zero_point;
  p.requantized = rq != nullptr;
  p.direct = g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
             g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0;
  p.group_rq.clear();
  p.small_m = false;
  if (w.depthwise) {
    prepare_depthwise(w.dw, rq, x_zero_point, x_signed, g, &p.dw);
    return;
  }
  if (rq == nullptr) return;
  // A 1x1 convolution reads its input rows as the GEMM's A directly, and the
  // GEMM wins there unless the output channels fill little of its 32-wide
  // tile and there are pixels enough to amortise the pixel gather (8 channels
  // over 2304 pixels: 6.0 -> 2.4 us; 16 channels from 88: 2.4 -> 3.3 us).
  const size_t pixels = n * p.oh * p.ow;
  const bool small_m_wins = !p.direct || (w.m <= kSmallMDirectMaxChannels && pixels >= kSmallMDirectMinPixels);
  if (w.small_m && g.dilation_w == 1 && small_m_wins) {
    p.small_m = true;
    prepare_small_m(w.sm, *rq, x_signed, x_zero_point, &p.sm);
    p.sm_pitch = (wd + g.pad_left + g.pad_right) * p.c;
    p.sm_hp = h + g.pad_top + g.pad_bottom;
    return;
  }
  const size_t mg = w.group_m();
  p.group_rq.resize(w.groups);
  for (size_t gi = 0; gi < w.groups; ++gi) {
    Requantization r = *rq;
    r.scale = slice(rq->scale, w.m, gi * mg, mg);
    r.multiplier = slice(rq->multiplier, w.m, gi * mg, mg);
    r.shift = slice(rq->shift, w.m, gi * mg, mg);
    r.bias = slice(rq->bias, w.m, gi * mg, mg);
    p.group_rq[gi] = std::move(r);
  }
}

namespace {

constexpr size_t kMinParallelWork = size_t{1} << 22;  // multiply-adds (see gemm_paths.cc)
constexpr size_t kMinWakeWork = size_t{1} << 26;
constexpr size_t kTasksPerThread = 4;
constexpr size_t kChunkBytes = 32 * 1024;  // im2col rows per chunk: A stays in L1/L2 for the GEMM

// Gathers the im2col rows of output pixels [r0, r1) for group gi: K bytes per
// row, taps outer and the group's channels inner; padded taps hold the zero point.
void im2col(const ConvS8Plan& p, size_t cg, size_t gi, const uint8_t* x, size_t r0, size_t r1, uint8_t* dst) {
  const Conv2dGeometry& g = p.geometry;
  const size_t k = g.kh * g.kw * cg, c = p.c;
  const uint8_t zp = static_cast<uint8_t>(p.x_zero_point);
  const ptrdiff_t h = static_cast<ptrdiff_t>(p.h), w = static_cast<ptrdiff_t>(p.w);
  // With one group and no dilation along W, a kernel row's taps are kw*C contiguous bytes.
  const bool contiguous = cg == c && g.dilation_w == 1;
  for (size_t r = r0; r < r1; ++r, dst += k) {
    const size_t ox = r % p.ow, rest = r / p.ow, oy = rest % p.oh, b = rest / p.oh;
    const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
    const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox * g.stride_w) - static_cast<ptrdiff_t>(g.pad_left);
    const bool cols_inside = ix0 >= 0 && ix0 + static_cast<ptrdiff_t>((g.kw - 1) * g.dilation_w) < w;
    uint8_t* d = dst;
    for (size_t ky = 0; ky < g.kh; ++ky) {
      const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky * g.dilation_h);
      if (iy < 0 || iy >= h) {
        std::memset(d, zp, g.kw * cg);
        d += g.kw * cg;
        continue;
      }
      const uint8_t* row = x + (static_cast<ptrdiff_t>(b) * h + iy) * w * static_cast<ptrdiff_t>(c) + gi * cg;
      if (contiguous && cols_inside) {
        std::memcpy(d, row + ix0 * static_cast<ptrdiff_t>(c), g.kw * cg);
        d += g.kw * cg;
        continue;
      }
      for (size_t kx = 0; kx < g.kw; ++kx, d += cg) {
        const ptrdiff_t ix = ix0 + static_cast<ptrdiff_t>(kx * g.dilation_w);
        if (ix < 0 || ix >= w) std::memset(d, zp, cg);
        else std::memcpy(d, row + ix * static_cast<ptrdiff_t>(c), cg);
      }
    }
  }
}

// Grows and returns this thread's im2col buffer (no allocation once grown).
uint8_t* im2col_scratch(size_t bytes) {
  thread_local AlignedBuffer buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return static_cast<uint8_t*>(buffer.data());
}

// The small-m kernels' input: x_eff bytes (int8 input flipped to the uint8
// domain) with the borders filled with za_eff, in this thread's scratch, plus
// the slack the kernels' whole-vector row reads may touch.
const uint8_t* padded_image(const ConvS8Plan& p, const uint8_t* x) {
  const Conv2dGeometry& g = p.geometry;
  const size_t pitch = p.sm_pitch, hp = p.sm_hp, c = p.c;
  thread_local AlignedBuffer buffer;
  const size_t bytes = p.n * hp * pitch + kSmallMSlack;
  if (buffer.size() < bytes) buffer.resize(bytes);
  auto* dst = static_cast<uint8_t*>(buffer.data());
  const uint8_t pad = p.sm.pad;
  const size_t left = g.pad_left * c, inner = p.w * c;
  for (size_t b = 0; b < p.n; ++b) {
    for (size_t yp = 0; yp < hp; ++yp) {
      uint8_t* row = dst + (b * hp + yp) * pitch;
      if (yp < g.pad_top || yp >= g.pad_top + p.h) {
        std::memset(row, pad, pitch);
        continue;
      }
      const uint8_t* src = x + (b * p.h + (yp - g.pad_top)) * inner;
      std::memset(row, pad, left);
      if (p.x_signed) {
        for (size_t i = 0; i < inner; ++i) row[left + i] = static_cast<uint8_t>(src[i] ^ 0x80);
      } else {
        std::memcpy(row + left, src, inner);
      }
      std::memset(row + left + inner, pad, pitch - left - inner);
    }
  }
  return dst;
}

void conv_small_m(const PackedConvS8& w, const ConvS8Plan& p, const uint8_t* x, void* out, ThreadPool* pool) {
  SmallMArgs a;
  a.w = &w.sm;
  a.params = &p.sm;
  a.padded = padded_image(p, x);
  a.pitch = p.sm_pitch;
  a.hp = p.sm_hp;
  a.oh = p.oh;
  a.ow = p.ow;
  a.m = w.m;
  a.stride_h = p.geometry.stride_h;
  a.stride_w = p.geometry.stride_w;
  a.dilation_h = p.geometry.dilation_h;
  a.out = out;
  const SmallMPath& path = *small_m_path(w.isa);
  const size_t rows = p.n * p.oh;
  const size_t work = rows * p.ow * w.m * w.k();
  const size_t threads = pool != nullptr ? pool->threads() : 1;
  if (threads <= 1 || work < kMinParallelWork || rows < 2) {
    path.run(a, 0, rows);
    return;
  }
  const size_t tasks = std::min(rows, threads * kTasksPerThread);
  pool->parallel_for(tasks, [&](size_t t) {
    const size_t r0 = rows * t / tasks, r1 = rows * (t + 1) / tasks;
    if (r0 < r1) path.run(a, r0, r1);
  }, work >= kMinWakeWork);
}

}  // namespace

void conv_s8(const PackedConvS8& w, const ConvS8Plan& p, const void* x, void* out, ThreadPool* pool) {
  const size_t rows = p.n * p.oh * p.ow;
  if (rows == 0) return;
  const size_t threads = pool != nullptr ? pool->threads() : 1;
  if (w.depthwise) {
    DepthwiseArgs a;
    a.x = x;
    a.x_signed = p.x_signed;
    a.n = p.n;
    a.h = p.h;
    a.w = p.w;
    a.c = p.c;
    a.geometry = p.geometry;
    a.oh = p.oh;
    a.ow = p.ow;
    a.weights = &w.dw;
    a.params = &p.dw;
    a.out = out;
    depthwise_conv(depthwise_path(w.isa), a, threads > 1 ? pool : nullptr);
    return;
  }
  if (p.small_m) {
    conv_small_m(w, p, static_cast<const uint8_t*>(x), out, pool);
    return;
  }

  const GemmPath& path = *gemm_path(w.isa);
  const size_t m = w.m, mg = w.group_m(), cg = w.cg, k = w.k();
  const size_t out_bytes = p.requantized ? 1 : sizeof(int32_t);
  const auto* xb = static_cast<const uint8_t*>(x);
  auto* ob = static_cast<uint8_t*>(out);
  const auto args_for = [&](size_t gi, const uint8_t* a, size_t a_stride, size_t r0, size_t count) {
    GemmArgs g;
    g.m = count;
    g.a = a;
    g.a_stride = a_stride;
    g.a_signed = p.x_signed;
    g.a_zero_point = p.x_zero_point;
    g.b = &w.group_b[gi];
    g.rq = p.requantized ? &p.group_rq[gi] : nullptr;
    g.c = ob + (r0 * m + gi * mg) * out_bytes;
    g.c_stride = m;
    return g;
  };

  if (p.direct) {
    // The input rows are the GEMM's A: N*H*W rows of C bytes, group gi at column gi*cg.
    for (size_t gi = 0; gi < w.groups; ++gi) {
      const GemmArgs g = args_for(gi, xb + gi * cg, p.c, 0, rows);
      if (threads > 1) gemm_parallel(path, g, *pool);
      else path.run(g, 0, rows, 0, mg);
    }
    return;
  }

  const size_t mr = path.mr > 0 ? path.mr : 1;
  size_t chunk = std::max(mr, kChunkBytes / std::max<size_t>(k, 1) / mr * mr);
  chunk = std::min(chunk, size_t{512});
  const size_t work = rows * m * k;
  const bool parallel = threads > 1 && work >= kMinParallelWork;
  if (parallel) {
    // Enough chunks for every thread to take several.
    const size_t want = threads * kTasksPerThread;
    const size_t even = (rows + want - 1) / want;
    chunk = std::max(mr, std::min(chunk, (even + mr - 1) / mr * mr));
  }
  const size_t tasks = (rows + chunk - 1) / chunk;
  const auto task = [&](size_t t) {
    const size_t r0 = t * chunk, r1 = std::min(rows, r0 + chunk);
    uint8_t* a = im2col_scratch(chunk * k);
    for (size_t gi = 0; gi < w.groups; ++gi) {
      im2col(p, cg, gi, xb, r0, r1, a);
      path.run(args_for(gi, a, k, r0, r1 - r0), 0, r1 - r0, 0, mg);
    }
  };
  if (parallel && tasks > 1) {
    pool->parallel_for(tasks, task, work >= kMinWakeWork);
  } else {
    for (size_t t = 0; t < tasks; ++t) task(t);
  }
}

}  // namespace lowbit
