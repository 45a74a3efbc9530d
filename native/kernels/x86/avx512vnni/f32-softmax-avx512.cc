// Softmax rows with avx512: the shared vector code (../../common/f32-softmax-impl.h).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 avx512fintrin.h false alarm
#include "../../common/f32-softmax-impl.h"

namespace lowbit {
namespace avx512 {

extern const SoftmaxPath kSoftmaxPath = {Isa::kAvx512Vnni, simd::softmax_row<simd::VecAvx512>};

}  // namespace avx512
}  // namespace lowbit
