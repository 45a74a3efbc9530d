// QuantizeLinear / DequantizeLinear row kernels per path, and the block
// functions that walk [outer x channels x inner] with them.
#include "lowbit/quantize.h"

namespace lowbit {

#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const QuantizePath kQuantizePath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512vnni { extern const QuantizePath kQuantizePath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const QuantizePath kQuantizePath; }
#endif

static const QuantizePath kRefQuantizePath = {ref::quantize_row, ref::dequantize_row};

const QuantizePath& quantize_path(Isa isa) {
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
    case Isa::kAvxVnni:
      return avx2::kQuantizePath;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      return avx512vnni::kQuantizePath;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot:
      return neon::kQuantizePath;
#endif
    default:
      return kRefQuantizePath;
  }
}

void quantize_linear(const QuantizePath& path, const float* x, size_t outer, size_t channels, size_t inner,
                     const float* scale, size_t scale_count, const int32_t* zero_point, size_t zero_point_count,
                     bool out_signed, void* y) {
  auto* out = static_cast<uint8_t*>(y);
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      const size_t row = (o * channels + c) * inner;
      const int32_t zp = zero_point_count == 0 ? 0 : zero_point[zero_point_count == 1 ? 0 : c];
      path.quantize_row(x + row, inner, scale[scale_count == 1 ? 0 : c], zp, out_signed, out + row);
    }
  }
}

void dequantize_linear(const QuantizePath& path, const void* x, ElementType x_type, size_t outer, size_t channels,
                       size_t inner, const float* scale, size_t scale_count, const int32_t* zero_point,
                       size_t zero_point_count, float* y) {
  const size_t bytes = x_type == ElementType::kInt32 ? 4 : 1;
  const auto row_of = x_type == ElementType::kInt32 ? ref::dequantize_row : path.dequantize_row;
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      const size_t row = (o * channels + c) * inner;
      const int32_t zp = zero_point_count == 0 ? 0 : zero_point[zero_point_count == 1 ? 0 : c];
      row_of(static_cast<const uint8_t*>(x) + row * bytes, x_type, inner, scale[scale_count == 1 ? 0 : c], zp, y + row);
    }
  }
}

}  // namespace lowbit
