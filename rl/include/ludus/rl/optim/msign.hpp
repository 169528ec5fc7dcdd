// msign (the orthogonal polar factor U Vᵀ of G = U S Vᵀ) by Newton–Schulz iteration, no SVD.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ludus::rl::optim {

/// One Newton–Schulz step X ← a X + (b A + c A²) X with A = X Xᵀ, i.e. the odd
/// polynomial p(σ) = a σ + b σ³ + c σ⁵ applied to every singular value.
struct NsCoefficients {
  double a = 0.0;
  double b = 0.0;
  double c = 0.0;
};

/// A Newton–Schulz coefficient schedule: entry i is used at step i; when a run takes
/// more steps than there are entries, the last entry repeats.
struct NsSchedule {
  std::string name;
  std::vector<NsCoefficients> steps;
};

/// The shipped schedules, by name (coefficients exactly as in specs/optim-grpo.md):
/// - "keller": (3.4445, −4.7750, 2.0315) every step (Keller Jordan's Muon). Output
///   singular values for inputs in [0.01, 1] after 5 steps: about [0.68, 1.13].
/// - "quintic5": 5 per-step tuned entries (modded-nanogpt medium). About [0.978, 1.032].
/// - "polar_express": the 5 Polar Express entries (Amsel et al. 2025) WITHOUT their
///   safety factor: ludus ships the raw coefficients; apply one with
///   `with_safety_factor(ns_schedule("polar_express"), 1.01)` if wanted.
///   About [0.87, 1.12] after 5 steps in float32. Computed in bfloat16 the raw
///   coefficients overshoot (measured up to 1.33 on a 96×48 Gaussian matrix); with
///   the 1.01 factor the result stays within [0.80, 1.13], so use it for bfloat16.
/// - "you6": 6 entries from the modula library, each divided by 1024. About
///   [0.9956, 0.9993] after 6 steps.
/// Throws std::invalid_argument naming the valid schedules when `name` is unknown.
const NsSchedule& ns_schedule(std::string_view name);

/// The names `ns_schedule` accepts, in a stable order.
std::vector<std::string> ns_schedule_names();

/// A user-supplied schedule. Throws std::invalid_argument when `steps` is empty or a
/// coefficient is not finite.
NsSchedule make_ns_schedule(std::string name, std::vector<NsCoefficients> steps);

/// The schedule with Polar Express' safety factor f applied to every entry:
/// (a/f, b/f³, c/f⁵), i.e. p(σ/f), so rounding cannot push a singular value past
/// the polynomial's stable range. Named "<name>_sf<f>". Requires f ≥ 1.
NsSchedule with_safety_factor(const NsSchedule& schedule, double factor);

/// The scalar map σ ↦ p_k(…p_1(σ)) the schedule applies in `steps` steps, evaluated
/// elementwise in float64 (for reports and tests: the schedule's ideal output).
torch::Tensor ns_scalar_map(const torch::Tensor& sigma, const NsSchedule& schedule, int64_t steps);

/// msign(G) ≈ U Vᵀ for G = U S Vᵀ by `steps` Newton–Schulz steps.
/// - `g`: [m, n] or batched [B, m, n], floating point, any device. Each matrix is
///   normalized by its own Frobenius norm (+1e-7) first, so the iteration sees
///   singular values in (0, 1]; values below ~0.01 of the Frobenius norm do not
///   reach 1 in a few steps (that is the schedules' design range).
/// - Computes in `compute_dtype` (default: g's dtype; e.g. torch::kBFloat16 as in
///   Keller's Muon; must be floating point), on g's device; returns g's shape, dtype
///   and device. Bad shape, dtype or steps throw c10::Error.
/// - Tall matrices (m > n) are iterated transposed so the Gram X Xᵀ is the small one.
/// - `steps` ≥ 1; a zero matrix maps to zero.
torch::Tensor msign(const torch::Tensor& g, const NsSchedule& schedule, int64_t steps,
                    c10::optional<torch::ScalarType> compute_dtype = c10::nullopt);

/// msign with the schedule's own length as the step count.
torch::Tensor msign(const torch::Tensor& g, const NsSchedule& schedule);

}  // namespace ludus::rl::optim
