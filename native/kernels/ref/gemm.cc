// Reference int8 GEMM: the ONNX formula evaluated directly. Slow on purpose; it
// is the ground truth every SIMD path is compared against, bit for bit.
#include <cstring>
#include <vector>

#include "lowbit/gemm.h"

namespace lowbit {
namespace ref {

namespace {
inline int32_t load(const void* p, bool is_signed, size_t i) {
  return is_signed ? static_cast<const int8_t*>(p)[i] : static_cast<const uint8_t*>(p)[i];
}
}  // namespace

void gemm_s32(size_t m, size_t n, size_t k, const void* a, bool a_signed, size_t a_stride,
              int32_t a_zero_point, const void* b, bool b_signed, size_t b_stride,
              const int32_t* b_zero_point, size_t b_zero_point_count, int32_t* c,
              size_t c_stride) {
  for (size_t i = 0; i < m; ++i) {
    const void* a_row = static_cast<const uint8_t*>(a) + i * a_stride;
    for (size_t j = 0; j < n; ++j) {
      const int32_t zb = b_zero_point_count == 0 ? 0 : b_zero_point[b_zero_point_count == 1 ? 0 : j];
      uint32_t acc = 0;  // wraps like int32 hardware adds, without undefined behaviour
      for (size_t p = 0; p < k; ++p) {
        const int32_t av = load(a_row, a_signed, p) - a_zero_point;
        const int32_t bv = load(b, b_signed, p * b_stride + j) - zb;
        acc += static_cast<uint32_t>(av * bv);
      }
      c[i * c_stride + j] = static_cast<int32_t>(acc);
    }
  }
}

void requantize(const Requantization& rq, const int32_t* acc, size_t outer, size_t channels,
                size_t inner, void* out) {
  size_t idx = 0;
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      for (size_t i = 0; i < inner; ++i, ++idx) {
        const int32_t y = requantize_one(rq, acc[idx], c);
        if (rq.out_signed) {
          static_cast<int8_t*>(out)[idx] = static_cast<int8_t>(y);
        } else {
          static_cast<uint8_t*>(out)[idx] = static_cast<uint8_t>(y);
        }
      }
    }
  }
}

namespace {

// The ref path's packed form is B itself, so the ground truth reads the user's values.
void pack(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
          const std::vector<int32_t>& /*zero_point*/, PackedMatrix* out) {
  (void)b_signed;
  out->nr = 1;
  out->kr = 1;
  out->data.resize(k * n);
  auto* dst = static_cast<uint8_t*>(out->data.data());
  for (size_t p = 0; p < k; ++p) {
    std::memcpy(dst + p * n, static_cast<const uint8_t*>(b) + p * b_stride, n);
  }
}

void run(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin, size_t n_end) {
  const PackedMatrix& b = *args.b;
  const size_t width = n_end - n_begin;
  std::vector<int32_t> row(width);
  const int32_t* zp = b.zero_point.empty() ? nullptr : b.zero_point.data();
  const size_t zp_count = b.zero_point.size();
  // Per-column zero points must be offset to the column range; per-tensor stay.
  const int32_t* zp_range = zp_count > 1 ? zp + n_begin : zp;
  for (size_t i = m_begin; i < m_end; ++i) {
    const void* a_row = static_cast<const uint8_t*>(args.a) + i * args.a_stride;
    gemm_s32(1, width, b.k, a_row, args.a_signed, args.a_stride, args.a_zero_point,
             static_cast<const uint8_t*>(b.data.data()) + n_begin, b.b_signed, b.n, zp_range,
             zp_count, row.data(), width);
    if (args.rq == nullptr) {
      std::memcpy(static_cast<int32_t*>(args.c) + i * args.c_stride + n_begin, row.data(),
                  width * sizeof(int32_t));
      continue;
    }
    for (size_t j = 0; j < width; ++j) {
      const int32_t y = requantize_one(*args.rq, row[j], n_begin + j);
      const size_t at = i * args.c_stride + n_begin + j;
      if (args.rq->out_signed) {
        static_cast<int8_t*>(args.c)[at] = static_cast<int8_t>(y);
      } else {
        static_cast<uint8_t*>(args.c)[at] = static_cast<uint8_t>(y);
      }
    }
  }
}

}  // namespace

extern const GemmPath kGemmPath = {Isa::kRef, 1, 1, pack, run};

}  // namespace ref
}  // namespace lowbit
