// Steepest descent under a norm: the norms offered per parameter group and their dual directions.
#pragma once

#include "ludus/rl/optim/msign.hpp"

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ludus::rl::optim {

/// The norm a parameter matrix W (shape [d_out, d_in]) is measured in.
/// | kind       | ‖W‖                    | dual direction d(G)       | dual norm ‖G‖†     |
/// | spectral   | σ_max(W)               | msign(G) = U Vᵀ           | nuclear Σσ         |
/// | rms_to_rms | √(d_in/d_out) σ_max(W) | √(d_out/d_in) msign(G)    | √(d_out/d_in) Σσ   |
/// | frobenius  | ‖W‖_F                  | G / ‖G‖_F                 | ‖G‖_F              |
/// | linf_sign  | max |W_ij|             | sign(G)                   | Σ|G_ij| (ℓ1)       |
/// | colnorm    | max_j ‖W[:, j]‖₂       | each column / its ℓ2 norm | Σ_j ‖G[:, j]‖₂     |
/// | rownorm    | max_i ‖W[i, :]‖₂       | each row / its ℓ2 norm    | Σ_i ‖G[i, :]‖₂     |
/// For spectral and rms_to_rms the direction is the Newton–Schulz approximation, so
/// ⟨G, d⟩ and ‖d‖ are exact only up to the schedule's band (see msign.hpp).
enum class NormKind { spectral, rms_to_rms, frobenius, linf_sign, colnorm, rownorm };

/// Muon's extra shape factor on the update of a [rows, cols] matrix:
/// none: 1; original (Keller Jordan): √max(1, rows/cols); moonlight: 0.2·√max(rows, cols)
/// (matches AdamW's update RMS so one lr serves both).
enum class MuonScaling { none, original, moonlight };

/// Names as used in configs: "spectral", "rms_to_rms", "frobenius", "linf_sign",
/// "colnorm", "rownorm" / "none", "original", "moonlight". Parsing throws
/// std::invalid_argument listing the valid names.
std::string to_string(NormKind kind);
std::string to_string(MuonScaling scaling);
NormKind parse_norm_kind(std::string_view name);
MuonScaling parse_muon_scaling(std::string_view name);

/// How the spectral and rms_to_rms directions compute msign.
struct MsignConfig {
  NsSchedule schedule = ns_schedule("keller");
  int64_t steps = 5;
  c10::optional<torch::ScalarType> compute_dtype = c10::nullopt;
};

/// d(G) = argmax over ‖T‖ ≤ 1 of ⟨G, T⟩ for the norm `kind`.
/// `g`: [d_out, d_in] or batched [B, d_out, d_in], floating point, any device; the
/// result has g's shape, dtype and device. A zero gradient gives a zero direction.
torch::Tensor dual_direction(const torch::Tensor& g, NormKind kind, const MsignConfig& msign_config = {});

/// ‖W‖ in the norm `kind`, exact (the spectral kinds use an SVD: a reference for tests
/// and reports, not for the hot path). Returns a 0-d tensor ([B] when batched), float.
torch::Tensor norm_value(const torch::Tensor& w, NormKind kind);

/// ‖G‖† (dual norm), exact (SVD for the spectral kinds). Same shapes as norm_value.
torch::Tensor dual_norm_value(const torch::Tensor& g, NormKind kind);

/// The dual direction under the Schatten-p norm ‖W‖_{S_p} = ‖σ(W)‖_p, p in (1, ∞]
/// (p = ∞ is the spectral norm, p = 2 Frobenius):
/// d = U diag(σ^(q−1)) Vᵀ / ‖G‖_{S_q}^(q−1) with 1/p + 1/q = 1, so ⟨G, d⟩ = ‖G‖_{S_q}
/// and ‖d‖_{S_p} = 1. Computed with an SVD in float64 (a reference, e.g. to compare
/// Newton–Schulz schedules with: Keller's behaves like p ≈ 32), then cast back to g's
/// dtype; g is [m, n] or [B, m, n]. Throws std::invalid_argument for p ≤ 1.
torch::Tensor schatten_dual_direction(const torch::Tensor& g, double p);

/// ‖G‖_{S_p} = (Σ σ^p)^(1/p) (p = ∞: σ_max), float64, [] or [B]. Requires p ≥ 1.
torch::Tensor schatten_norm_value(const torch::Tensor& g, double p);

/// Muon's shape factor for a [rows, cols] update (see MuonScaling).
double muon_scale(int64_t rows, int64_t cols, MuonScaling scaling);

}  // namespace ludus::rl::optim
