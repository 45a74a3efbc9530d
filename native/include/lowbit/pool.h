// 2-D pooling (ONNX MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool)
// over NCHW or NHWC tensors. MaxPool runs on float32, uint8 and int8 (exact on
// quantized data: max commutes with a monotonic dequantization);
// AveragePool on float32.
//
// The caller (lib/ops/pool.ts) resolves auto_pad and ceil_mode into explicit
// pads and output sizes. A window's taps are y = oy * sh - pad_top + ky * dh
// (x likewise); taps outside the input are skipped. Average divisor: the taps
// inside the input (count_include_pad = 0) or inside the padded input
// [-pad_top, h + pad_bottom) x [-pad_left, w + pad_right) (count_include_pad =
// 1; a ceil_mode window reaching past the end padding does not count those).
// A window without any input tap gives the type's lowest value (max) or 0 (avg).
//
// Numerics: max is NaN-propagating (lowbit/elementwise.h's Max); averages sum
// the taps in window order (ky, then kx) in float32 and divide once. SIMD
// paths (NHWC, vectorised over channels) do exactly that: bit-identical.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/cpu.h"
#include "lowbit/quantize.h"

namespace lowbit {

class ThreadPool;

enum class PoolKind : int { kMax = 0, kAverage = 1 };
enum class Layout : int { kNchw = 0, kNhwc = 1 };

struct Pool2dParams {
  size_t n = 0, c = 0, h = 0, w = 0;  // input
  size_t oh = 0, ow = 0;              // output
  size_t kh = 1, kw = 1;
  size_t sh = 1, sw = 1;
  size_t dh = 1, dw = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
};

// One path's channel-row kernels (NHWC): `rows` points at the taps' pixels,
// each of c contiguous channels; taps >= 1.
struct PoolPath {
  Isa isa;
  void (*max_f32)(const float* const* rows, size_t taps, size_t c, float* out);
  void (*max_u8)(const uint8_t* const* rows, size_t taps, size_t c, uint8_t* out);
  void (*max_s8)(const int8_t* const* rows, size_t taps, size_t c, int8_t* out);
  // out[j] = (rows[0][j] + rows[1][j] + ...) / divisor.
  void (*avg_f32)(const float* const* rows, size_t taps, size_t c, float divisor, float* out);
};

const PoolPath& pool_path(Isa isa);

// x: [n, c, h, w] (NCHW) or [n, h, w, c] (NHWC); out likewise with oh, ow.
// type: float32 for both kinds; uint8 / int8 for max.
void pool2d(const PoolPath& path, PoolKind kind, Layout layout, ElementType type, const Pool2dParams& p,
            const void* x, void* out, ThreadPool* pool);

// Over all `spatial` positions: x [n, c, spatial] (NCHW) or [n, spatial, c] (NHWC) -> [n, c].
void global_pool(const PoolPath& path, PoolKind kind, Layout layout, ElementType type, size_t n, size_t c,
                 size_t spatial, const void* x, void* out, ThreadPool* pool);

namespace ref {
extern const PoolPath kPoolPath;
}  // namespace ref

}  // namespace lowbit
