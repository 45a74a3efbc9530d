// fp32 Conv / ConvTranspose: weight packing, per-shape planning (the igemm
// offset table), and the drivers that run a call on one path's kernels over
// the thread pool. No ISA-specific code: the kernels come through F32Path.
#include <algorithm>
#include <cstring>
#include <vector>

#include "lowbit/conv_f32.h"
#include "lowbit/thread_pool.h"

namespace lowbit {

namespace {
// As in gemm_f32: below this many multiply-adds a call stays on one thread.
constexpr size_t kMinParallelWork = size_t{1} << 20;
constexpr size_t kMinWakeWork = size_t{1} << 24;
constexpr size_t kTasksPerThread = 4;
// Igemm table entries per filter row (over a padded copy) when kw * c is at most this.
constexpr size_t kRowRunFloats = 64;
// ConvTranspose: floats of the column buffer one GEMM call fills (1 MiB).
constexpr size_t kColumnFloats = size_t{1} << 18;
}  // namespace

void pack_conv2d_f32(const F32Path& path, const float* weights, const float* bias, size_t m, size_t cg,
                     size_t kh, size_t kw, size_t groups, PackedConvF32* out) {
  out->path = &path;
  out->m = m;
  out->cg = cg;
  out->kh = kh;
  out->kw = kw;
  out->groups = groups;
  const size_t taps = kh * kw;
  out->depthwise = cg == 1 && m == groups;
  out->group_b.clear();
  if (out->depthwise) {
    PackedF32Depthwise& dw = out->dw;
    dw.c = m;
    dw.kh = kh;
    dw.kw = kw;
    dw.cb = path.cb;
    const size_t blocks = dw.blocks();
    dw.weights.resize(blocks * taps * dw.cb * sizeof(float));
    dw.bias.resize(blocks * dw.cb * sizeof(float));
    auto* w = static_cast<float*>(dw.weights.data());
    auto* b = static_cast<float*>(dw.bias.data());
    for (size_t ch = 0; ch < m; ++ch) {
      for (size_t t = 0; t < taps; ++t) w[(ch / dw.cb) * taps * dw.cb + t * dw.cb + ch % dw.cb] = weights[ch * taps + t];
      b[ch] = bias != nullptr ? bias[ch] : 0.0f;
    }
    return;
  }
  // Per group, B [K = taps * cg][mg] with K tap-major (t * cg + ci), the order
  // of the igemm's rows (an input pixel's cg channels, tap after tap).
  const size_t mg = m / groups, k = taps * cg;
  std::vector<float> b(k * mg);
  out->group_b.resize(groups);
  for (size_t g = 0; g < groups; ++g) {
    for (size_t mo = 0; mo < mg; ++mo) {
      const float* src = weights + (g * mg + mo) * cg * taps;
      for (size_t ci = 0; ci < cg; ++ci) {
        for (size_t t = 0; t < taps; ++t) b[(t * cg + ci) * mg + mo] = src[ci * taps + t];
      }
    }
    pack_f32_matrix(path, b.data(), k, mg, mg, 1, bias != nullptr ? bias + g * mg : nullptr, &out->group_b[g]);
  }
}

void plan_conv2d_f32(const PackedConvF32& packed, const Conv2dParams& p, ConvF32Plan* plan) {
  plan->p = p;
  plan->out_h = conv_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h);
  plan->out_w = conv_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w);
  plan->indirection.clear();
  if (packed.depthwise) {
    plan->kind = ConvF32Plan::Kind::kDepthwise;
    return;
  }
  const bool pointwise = p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
                         p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
  if (pointwise) {
    plan->kind = ConvF32Plan::Kind::kGemm;
    return;
  }
  plan->kind = ConvF32Plan::Kind::kIgemm;
  // Few channels per tap: a table entry per filter row instead of per tap (the
  // pointer work per tile shrinks kw-fold, the K loop runs kw * c long).
  const bool rows = p.groups == 1 && p.dilation_w == 1 && p.kw > 1 && p.c * p.kw <= kRowRunFloats;
  plan->padded_w = rows ? p.pad_left + p.w + p.pad_right : 0;
  plan->taps = rows ? p.kh : p.kh * p.kw;
  const size_t row_pixels = rows ? plan->padded_w : p.w;
  plan->indirection.resize(p.n * plan->out_h * plan->out_w * plan->taps);
  size_t* ind = plan->indirection.data();
  for (size_t n = 0; n < p.n; ++n) {
    for (size_t oh = 0; oh < plan->out_h; ++oh) {
      for (size_t ow = 0; ow < plan->out_w; ++ow) {
        for (size_t kh = 0; kh < p.kh; ++kh) {
          const ptrdiff_t ih = static_cast<ptrdiff_t>(oh * p.stride_h + kh * p.dilation_h) - static_cast<ptrdiff_t>(p.pad_top);
          const bool row_inside = ih >= 0 && ih < static_cast<ptrdiff_t>(p.h);
          const size_t row_start = (n * p.h + static_cast<size_t>(row_inside ? ih : 0)) * row_pixels;
          if (rows) {
            // Column ow * stride_w of the padded row is the tap kw = 0.
            *ind++ = row_inside ? (row_start + ow * p.stride_w) * p.c * sizeof(float) : kF32PaddingTap;
            continue;
          }
          for (size_t kw = 0; kw < p.kw; ++kw) {
            const ptrdiff_t iw = static_cast<ptrdiff_t>(ow * p.stride_w + kw * p.dilation_w) - static_cast<ptrdiff_t>(p.pad_left);
            const bool inside = row_inside && iw >= 0 && iw < static_cast<ptrdiff_t>(p.w);
            *ind++ = inside ? (row_start + static_cast<size_t>(iw)) * p.c * sizeof(float) : kF32PaddingTap;
          }
        }
      }
    }
  }
  plan->zero.resize(std::max<size_t>(1, rows ? p.kw * p.c : packed.cg) * sizeof(float));
}

namespace {
// The input with every row padded left and right by zeros to plan.padded_w
// pixels, in this thread's scratch (the GEMM's tiles only read it).
const float* padded_rows(const ConvF32Plan& plan, const float* in) {
  const Conv2dParams& p = plan.p;
  thread_local std::vector<float> scratch;
  const size_t row = plan.padded_w * p.c;
  if (scratch.size() < p.n * p.h * row) scratch.resize(p.n * p.h * row);
  float* dst = scratch.data();
  const size_t left = p.pad_left * p.c, right = row - left - p.w * p.c;
  for (size_t r = 0; r < p.n * p.h; ++r, dst += row, in += p.w * p.c) {
    std::memset(dst, 0, left * sizeof(float));
    std::memcpy(dst + left, in, p.w * p.c * sizeof(float));
    std::memset(dst + row - right, 0, right * sizeof(float));
  }
  return scratch.data();
}
}  // namespace

void conv2d_f32(const PackedConvF32& packed, const ConvF32Plan& plan, const float* in, float* out,
                const F32Epilogue& e, ThreadPool* pool) {
  const F32Path& path = *packed.path;
  const Conv2dParams& p = plan.p;
  const size_t pixels = p.n * plan.out_h * plan.out_w;
  if (pixels == 0 || p.m == 0) return;
  if (plan.kind == ConvF32Plan::Kind::kDepthwise) {
    F32DepthwiseArgs args;
    args.p = &p;
    args.out_h = plan.out_h;
    args.out_w = plan.out_w;
    args.in = in;
    args.out = out;
    args.w = &packed.dw;
    args.epilogue = e;
    const size_t rows = p.n * plan.out_h;
    const size_t work = pixels * p.c * p.kh * p.kw;
    const size_t threads = pool != nullptr ? pool->threads() : 1;
    // Rows [r0, r1) of all images, image by image.
    auto run_rows = [&](size_t r0, size_t r1) {
      while (r0 < r1) {
        const size_t image = r0 / plan.out_h, oh0 = r0 % plan.out_h;
        const size_t oh1 = std::min(plan.out_h, oh0 + (r1 - r0));
        path.depthwise(args, image, oh0, oh1);
        r0 += oh1 - oh0;
      }
    };
    if (threads <= 1 || work < kMinParallelWork || rows < 2) {
      run_rows(0, rows);
      return;
    }
    const size_t tasks = std::min(rows, threads * kTasksPerThread);
    pool->parallel_for(tasks, [&](size_t t) { run_rows(rows * t / tasks, rows * (t + 1) / tasks); },
                       work >= kMinWakeWork);
    return;
  }
  const size_t mg = p.m / p.groups, cg = p.c / p.groups;
  for (size_t g = 0; g < p.groups; ++g) {
    F32GemmArgs args;
    args.m = pixels;
    args.b = &packed.group_b[g];
    args.c = out + g * mg;
    args.c_stride = p.m;
    args.epilogue = e;
    if (plan.kind == ConvF32Plan::Kind::kGemm) {
      args.a = in + g * cg;
      args.a_stride = p.c;
    } else {
      args.indirection = plan.indirection.data();
      args.ks = plan.taps;
      args.a_base = reinterpret_cast<const uint8_t*>(in + g * cg);
      args.zero = static_cast<const float*>(plan.zero.data());
      if (plan.padded_w != 0) args.a_base = reinterpret_cast<const uint8_t*>(padded_rows(plan, in));
    }
    gemm_f32(path, args, pool);
  }
}

void pack_conv_transpose2d_f32(const F32Path& path, const float* weights, const float* bias, size_t c,
                               size_t mg, size_t kh, size_t kw, size_t groups, PackedConvTransposeF32* out) {
  out->path = &path;
  out->c = c;
  out->mg = mg;
  out->kh = kh;
  out->kw = kw;
  out->groups = groups;
  const size_t taps = kh * kw, cg = c / groups, n = taps * mg;
  out->bias.assign(mg * groups, 0.0f);
  if (bias != nullptr) std::copy(bias, bias + mg * groups, out->bias.begin());
  // Per group, B [cg][taps * mg]: column t * mg + mo holds W[ci][mo][t].
  std::vector<float> b(cg * n);
  out->group_b.resize(groups);
  for (size_t g = 0; g < groups; ++g) {
    for (size_t ci = 0; ci < cg; ++ci) {
      const float* src = weights + (g * cg + ci) * mg * taps;
      for (size_t mo = 0; mo < mg; ++mo) {
        for (size_t t = 0; t < taps; ++t) b[ci * n + t * mg + mo] = src[mo * taps + t];
      }
    }
    pack_f32_matrix(path, b.data(), cg, n, n, 1, nullptr, &out->group_b[g]);
  }
}

void conv_transpose2d_f32(const PackedConvTransposeF32& packed, const Conv2dParams& p, const float* in,
                          float* out, const F32Epilogue& e, ThreadPool* pool) {
  const F32Path& path = *packed.path;
  const size_t out_h = conv_transpose_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h, p.out_pad_h);
  const size_t out_w = conv_transpose_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w, p.out_pad_w);
  const size_t m = p.m, mg = m / p.groups, cg = p.c / p.groups, taps = p.kh * p.kw, row = taps * mg;
  const size_t out_pixels = p.n * out_h * out_w;
  if (out_pixels == 0 || m == 0) return;
  for (size_t i = 0; i < out_pixels; ++i) std::memcpy(out + i * m, packed.bias.data(), m * sizeof(float));
  const size_t in_pixels = p.n * p.h * p.w;
  // Runs of input pixels whose columns fit the buffer; the same runs whatever
  // the thread count, so every output sums its terms in one order.
  const size_t chunk = std::max<size_t>(1, kColumnFloats / std::max<size_t>(1, row));
  thread_local std::vector<float> col;
  if (col.size() < std::min(chunk, in_pixels) * row) col.resize(std::min(chunk, in_pixels) * row);
  for (size_t p0 = 0; p0 < in_pixels; p0 += chunk) {
    const size_t p1 = std::min(in_pixels, p0 + chunk);
    for (size_t g = 0; g < p.groups; ++g) {
      F32GemmArgs args;
      args.m = p1 - p0;
      args.a = in + p0 * p.c + g * cg;
      args.a_stride = p.c;
      args.b = &packed.group_b[g];
      args.c = col.data();
      args.c_stride = row;
      gemm_f32(path, args, pool);
      // col2im: each input pixel's taps add into the outputs they reach.
      for (size_t i = p0; i < p1; ++i) {
        const size_t n = i / (p.h * p.w), ih = (i / p.w) % p.h, iw = i % p.w;
        const float* src_pixel = col.data() + (i - p0) * row;
        for (size_t kh = 0; kh < p.kh; ++kh) {
          const ptrdiff_t oh = static_cast<ptrdiff_t>(ih * p.stride_h + kh * p.dilation_h) - static_cast<ptrdiff_t>(p.pad_top);
          if (oh < 0 || oh >= static_cast<ptrdiff_t>(out_h)) continue;
          for (size_t kw = 0; kw < p.kw; ++kw) {
            const ptrdiff_t ow = static_cast<ptrdiff_t>(iw * p.stride_w + kw * p.dilation_w) - static_cast<ptrdiff_t>(p.pad_left);
            if (ow < 0 || ow >= static_cast<ptrdiff_t>(out_w)) continue;
            float* dst = out + ((n * out_h + static_cast<size_t>(oh)) * out_w + static_cast<size_t>(ow)) * m + g * mg;
            const float* src = src_pixel + (kh * p.kw + kw) * mg;
            for (size_t j = 0; j < mg; ++j) dst[j] += src[j];
          }
        }
      }
    }
  }
  if (e.kind != F32Activation::kNone) {
    for (size_t i = 0; i < out_pixels * m; ++i) out[i] = f32_activate(e, out[i]);
  }
}

}  // namespace lowbit
