// tanh_f32: the loop is written to vectorize (no branches, no calls), so it is compiled
// with -fno-trapping-math (rl/CMakeLists.txt) and, on x86-64, once more for AVX2 + FMA
// with the better build picked at load time (GCC / Clang target_clones).
#include <bit>
#include <cmath>
#include <cstdint>

#include "ludus/rl/tanh.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LUDUS_TANH_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LUDUS_TANH_CLONES
#endif

namespace ludus::rl {

// |x| < 1/4: the odd Taylor series to x^9 (the x^11 term is below 1e-8 relative there).
// Else tanh |x| = (1 - e) / (1 + e) with e = exp(-2|x|) = 2^k 2^f, k an integer, |f| <= 1/2,
// 2^f = exp(f ln 2) by its series to degree 7 (the next term is 5e-9 relative); past
// |x| = 9 the float result is 1. The sign is copied back, and a NaN passed through.
LUDUS_TANH_CLONES void tanh_f32(const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float a = std::fabs(v);
    const float a2 = a * a;
    const float small =
        a + a * a2 * (-1.0f / 3.0f + a2 * (2.0f / 15.0f + a2 * (-17.0f / 315.0f + a2 * (62.0f / 2835.0f))));
    const float clamped = a < 9.0f ? a : 9.0f;        // NaN too: keeps the integer conversion below defined
    const float t = clamped * -2.88539008177792681f;  // -2 / ln 2: e = 2^t
    const float k = (t + 12582912.0f) - 12582912.0f;  // round to the nearest integer (t is in [-26, 0])
    const float f = (t - k) * 0.693147180559945309f;
    float p = 1.0f / 5040.0f;
    p = p * f + 1.0f / 720.0f;
    p = p * f + 1.0f / 120.0f;
    p = p * f + 1.0f / 24.0f;
    p = p * f + 1.0f / 6.0f;
    p = p * f + 0.5f;
    p = p * f + 1.0f;
    p = p * f + 1.0f;
    const float e = p * std::bit_cast<float>((static_cast<int32_t>(k) + 127) << 23);
    const float large = (1.0f - e) / (1.0f + e);
    const float r = std::copysign(a < 0.25f ? small : large, v);
    y[i] = v != v ? v : r;
  }
}

}  // namespace ludus::rl
