// Softmax rows with avx2: the shared vector code (../../common/f32-softmax-impl.h).
#include "../../common/f32-softmax-impl.h"

namespace lowbit {
namespace avx2 {

extern const SoftmaxPath kSoftmaxPath = {Isa::kAvx2, simd::softmax_row<simd::VecAvx2>};

}  // namespace avx2
}  // namespace lowbit
