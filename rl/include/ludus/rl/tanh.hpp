// The policy networks' activation: tanh, on the CPU in float32 with a vectorized kernel of
// our own (libtorch's Sleef tanh is exact to 1 ULP and was 15% of the learner's time on the
// default Codeball network; this one is within 3 ULP of the true value and about 3x faster,
// BENCHMARKS.md). Other devices and dtypes use torch::tanh.
#pragma once

#include <cstdint>

namespace at {
class Tensor;
}

namespace ludus::rl {

// y[i] = tanh(x[i]) for n floats: at most 3 ULP (1.2e-7 absolute) from the correctly rounded
// value, exact signs (-0 stays -0), +-1 from |x| >= 9, NaN stays NaN. x and y may not overlap.
// Picks an AVX2 + FMA build on x86-64 CPUs that have them.
void tanh_f32(const float* x, float* y, int64_t n);

// tanh(x) with autograd (dtanh = 1 - tanh^2, as torch::tanh). CPU float32 tensors go
// through tanh_f32 (across torch's intra-op threads); anything else to torch::tanh.
at::Tensor tanh(const at::Tensor& x);

}  // namespace ludus::rl
