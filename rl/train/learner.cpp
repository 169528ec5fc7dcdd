// Learner: returns and advantages (GRPO groups or PPO's GAE), the weighted batch, the
// minibatch loss and the optimizer steps, and the update's statistics over every rank.
#include "trainer_impl.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "ludus/rl/grpo.hpp"

namespace ludus::rl {

namespace {

// Uniform permutation of [0, n) from the run's generator (so resumes are exact).
std::vector<int64_t> permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint32_t>(i + 1)));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

}  // namespace

void Trainer::throw_bad_updates() const {
  throw TrainingError(fmt::format(
      "{} consecutive updates had non-finite policy outputs, losses or gradients (last: update {}); training "
      "stopped. Lower optim.lr / optim.adam_lr, or check the game's rewards and observations",
      impl_->consecutive_bad, update_ + 1));
}

// Mean return and outcomes of the finished games; each result moves the league's ratings.
Trainer::Scores Trainer::score_games(const Rollout& ro, const Seating& seats, UpdateStats& st) {
  auto& im = *impl_;
  Scores sc;
  sc.returns = (ro.rew * ro.alive).sum(0);
  st.mean_return = sc.returns.mean().item<double>();
  for (int e = 0; e < im.num_envs; ++e) {
    const int o = ro.outcome[static_cast<size_t>(e)];
    if (o == 2) continue;
    ++sc.finished;
    sc.wins += o == 1;
    sc.draws += o == 0;
    im.record_match(seats.group_opponent[static_cast<size_t>(e / cfg_.grpo.group_size)], o == 1   ? 1.0
                                                                                         : o == 0 ? 0.5
                                                                                                  : 0.0);
  }
  st.train_win = sc.finished ? static_cast<double>(sc.wins) / sc.finished : 0;
  st.train_draw = sc.finished ? static_cast<double>(sc.draws) / sc.finished : 0;
  return sc;
}

// Advantages (GAE for PPO; group-relative for GRPO) and per-sample weights, before the
// loss normalization. PPO also gets its value targets.
void Trainer::advantages(const Rollout& ro, const torch::Tensor& returns, double kick, torch::Tensor& adv,
                         torch::Tensor& weight, torch::Tensor& ret_target) {
  const auto& im = *impl_;
  weight = ro.alive.clone();
  if (cfg_.algo == Algo::ppo) {
    adv = gae(ro.rew, ro.val, ro.alive, ro.term, ro.boot, cfg_.ppo.gamma, cfg_.ppo.lambda);
    ret_target = adv + ro.val;
    const auto a = adv.masked_select(ro.alive > 0);
    if (world_size() > 1) {
      // Normalized with the mean and standard deviation over every rank's samples (one
      // process keeps torch's float statistics, so its runs stay bit-identical to before).
      std::vector<double> m{a.sum().item<double>(), a.square().sum().item<double>(), static_cast<double>(a.numel())};
      dist_->all_reduce_sum(m, "PPO advantage statistics");
      const double n = std::max(1.0, m[2]), mean = m[0] / n;
      const double sd = std::sqrt(std::max(0.0, (m[1] - n * mean * mean) / std::max(1.0, n - 1)));
      adv = (adv - mean) / (sd + 1e-8) * ro.alive;
    } else {
      adv = (adv - a.mean()) / (a.std() + 1e-8) * ro.alive;
    }
    return;
  }
  const int64_t G = im.baseline_groups;
  const auto kind = parse_advantage(cfg_.grpo.advantage);
  torch::Tensor keep;
  const auto row_adv = group_advantages(returns, im.row_group_t, G, kind, &keep);
  if (cfg_.grpo.baseline == Baseline::step) {
    adv =
        stepwise_group_advantages(returns_to_go(ro.rew, ro.alive, cfg_.grpo.gamma), ro.alive, im.row_group_t, G, kind);
  } else {
    adv = row_adv.unsqueeze(0).expand({ro.steps, static_cast<int64_t>(im.learner_rows.size())}) * ro.alive;
  }
  if (cfg_.grpo.drop_degenerate) {
    // Kickstarting keeps those samples for the imitation loss, with no advantage.
    const auto kept = keep.to(torch::kFloat).unsqueeze(0);
    if (kick > 0)
      adv = adv * kept;
    else
      weight = weight * kept;
  }
  if (cfg_.grpo.batch_scale) {
    // One scale for the whole batch (every rank's): the advantages' RMS becomes 1, their
    // relative sizes across groups and steps stay (unlike per-group std normalization).
    std::vector<double> m{(adv * adv * ro.alive).sum().item<double>(), ro.alive.sum().item<double>()};
    dist_->all_reduce_sum(m, "GRPO advantage scale");
    const double rms = std::sqrt(m[0] / std::max(1.0, m[1]));
    if (rms > 1e-8) adv = adv / rms;
  }
}

// The loss is a weighted sum over samples: weights make it a mean over every rank's
// samples (or kept rollouts, with GRPO's length_norm); the kept samples are flattened.
Trainer::Batch Trainer::make_batch(const Rollout& ro, const torch::Tensor& returns, bool policy_finite, double kick) {
  auto& im = *impl_;
  const bool ppo = cfg_.algo == Algo::ppo;
  torch::Tensor adv, weight, ret_target;
  advantages(ro, returns, kick, adv, weight, ret_target);
  const auto lengths = ro.alive.sum(0);  // [R]
  {
    // Each rank divides by the job's total over W, and the all-reduce averages the W
    // gradients: a mean over samples, or over kept rollouts (length_norm).
    const bool per_rollout = !ppo && cfg_.grpo.length_norm;
    std::vector<double> total{per_rollout ? (weight.sum(0) > 0).to(torch::kFloat).sum().item<double>()
                                          : weight.sum().item<double>()};
    dist_->all_reduce_sum(total, "loss normalization");
    const double denom = std::max(1.0, total[0]) / world_size();
    weight = per_rollout ? weight / lengths.clamp_min(1).unsqueeze(0) / denom : weight / denom;
  }
  if (!policy_finite) weight.zero_();
  const auto flat_w = weight.reshape({-1});
  const auto idx = (flat_w > 0).nonzero().squeeze(1);
  Batch b;
  b.size = idx.size(0);
  // Every rank takes the same number of optimizer steps: minibatches follow the job's
  // sample count, and a rank with none in a minibatch adds a zero gradient.
  std::vector<double> job{static_cast<double>(b.size), ro.alive.sum().item<double>()};
  dist_->all_reduce_sum(job, "counting samples");
  b.job_size = static_cast<int64_t>(job[0]);
  b.job_steps = job[1];
  const auto pick = [&](const torch::Tensor& t, int64_t width) {
    return (width ? t.reshape({-1, width}) : t.reshape({-1})).index_select(0, idx).to(im.device);
  };
  b.obs = pick(ro.obs, im.obs_dim);
  b.act = pick(ro.act, im.adim);
  b.old_logp = pick(ro.logp, 0);
  b.ref_logp = pick(ro.ref, 0);
  b.adv = pick(adv, 0);
  b.weight = flat_w.index_select(0, idx).to(im.device);
  if (ppo) b.ret = pick(ret_target, 0);
  if (kick > 0) b.teach = pick(ro.teach, im.adim);
  if (cfg_.overlap && b.size > 0) {
    torch::NoGradGuard no_grad;
    b.prox_logp = policy_->head().log_prob(policy_->forward(b.obs), policy_->log_std(), b.act);
    b.behaviour_w = torch::exp(b.prox_logp - b.old_logp).clamp_max(2.0);
  }
  return b;
}

// The per-sample loss of one minibatch: clipped surrogate, entropy bonus, KL to the
// reference, PPO's value loss and the kickstart imitation term.
torch::Tensor Trainer::minibatch_loss(const Batch& b, const torch::Tensor& sel, double kick, MinibatchTerms& m) {
  const auto& head = policy_->head();
  const bool ppo = cfg_.algo == Algo::ppo;
  const double eps_low = ppo ? cfg_.ppo.clip : cfg_.grpo.clip_low, eps_high = ppo ? cfg_.ppo.clip : cfg_.grpo.clip_high;
  const auto o = b.obs.index_select(0, sel);
  const auto out = policy_->forward(o);
  m.logp = head.log_prob(out, policy_->log_std(), b.act.index_select(0, sel));
  m.old = (b.prox_logp.defined() ? b.prox_logp : b.old_logp).index_select(0, sel);
  auto surr = clipped_surrogate(m.logp, m.old, b.adv.index_select(0, sel), eps_low, eps_high);
  if (b.behaviour_w.defined()) surr = surr * b.behaviour_w.index_select(0, sel);
  m.ent = head.entropy(out, policy_->log_std());
  auto per_sample = -surr - cfg_.entropy_coef * m.ent;
  if (cfg_.grpo.kl_coef > 0 && !ppo) {
    m.kl = kl_unbiased(m.logp, b.ref_logp.index_select(0, sel));
    per_sample = per_sample + cfg_.grpo.kl_coef * m.kl;
  }
  if (ppo) per_sample = per_sample + cfg_.ppo.value_coef * (policy_->value(o) - b.ret.index_select(0, sel)).pow(2);
  if (kick > 0) {
    m.nll = -head.log_prob(out, policy_->log_std(), b.teach.index_select(0, sel));
    per_sample = per_sample + kick * m.nll;
  }
  return (b.weight.index_select(0, sel) * per_sample).sum();
}

// Epochs x minibatches of optimizer steps over the batch; non-finite steps are skipped
// and named, and updates without a step count towards max_bad_updates.
Trainer::Steps Trainer::optimize(const Batch& b, bool policy_finite, double kick, UpdateStats& st) {
  auto& im = *impl_;
  const double eps_low = cfg_.algo == Algo::ppo ? cfg_.ppo.clip : cfg_.grpo.clip_low;
  const int MB = std::max<int64_t>(1, std::min<int64_t>(cfg_.minibatches, b.job_size));
  double loss_sum = 0, ent_sum = 0, kl_sum = 0, clip_sum = 0, gn_sum = 0, nll_sum = 0;
  Steps done;
  int steps_taken = 0;
  std::vector<torch::Tensor> params;
  for (auto& p : policy_->parameters()) params.push_back(p);
  for (int epoch = 0; epoch < cfg_.epochs && b.job_size > 0; ++epoch) {
    const auto perm_v = permutation(b.size, im.rng);
    const auto perm = torch::tensor(perm_v, torch::kLong).to(im.device);
    for (int mb = 0; mb < MB; ++mb) {
      const int64_t lo = b.size * mb / MB, hi = b.size * (mb + 1) / MB;
      MinibatchTerms m;
      double lv = 0;
      im.opt->zero_grad();
      if (hi > lo) {
        const auto loss = minibatch_loss(b, perm.narrow(0, lo, hi - lo), kick, m) * MB;
        loss.backward();
        lv = loss.item<double>();
      }
      // Averaged gradients and loss: every rank sees the same numbers from here on, so
      // clipping, the finiteness check and the step agree.
      std::vector<double> extra{lv, static_cast<double>(hi - lo)};
      dist_->average_gradients(params, extra);
      lv = extra[0] / world_size();
      if (extra[1] == 0) continue;  // no rank had samples for this minibatch
      const double max_norm = cfg_.optim.max_grad_norm > 0 ? cfg_.optim.max_grad_norm : INFINITY;
      const double gn = torch::nn::utils::clip_grad_norm_(params, max_norm);
      if (!std::isfinite(lv) || !std::isfinite(gn)) {
        ++st.skipped;
        if (is_main()) warn_non_finite_step(epoch, mb, lv, gn);
        im.opt->zero_grad();
        continue;
      }
      const auto to = std::chrono::steady_clock::now();
      im.opt->step();
      done.optim_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - to).count();
      ++steps_taken;
      loss_sum += lv;
      gn_sum += gn;
      if (hi > lo) {
        torch::NoGradGuard ng;
        ++done.with_samples;
        ent_sum += m.ent.mean().item<double>();
        if (m.kl.defined()) kl_sum += m.kl.mean().item<double>();
        if (m.nll.defined()) nll_sum += m.nll.mean().item<double>();
        clip_sum += ((torch::exp(m.logp - m.old) - 1).abs() > eps_low).to(torch::kFloat).mean().item<double>();
      }
    }
  }
  if (b.job_size > 0 && steps_taken == 0) {
    if (++im.consecutive_bad >= cfg_.max_bad_updates) throw_bad_updates();
  } else if (policy_finite) {
    im.consecutive_bad = 0;
  }
  if (steps_taken > 0) {
    const int n = done.with_samples;
    st.loss = loss_sum / steps_taken;
    st.entropy = n ? ent_sum / n : 0;
    st.kl = n ? kl_sum / n : 0;
    st.clip_frac = n ? clip_sum / n : 0;
    st.grad_norm = gn_sum / steps_taken;
    st.teacher_nll = n ? nll_sum / n : 0;
  }
  return done;
}

// Which parameters' gradients went bad (clipping keeps non-finite entries non-finite).
void Trainer::warn_non_finite_step(int epoch, int mb, double loss, double grad_norm) const {
  std::string where;
  for (const auto& p : policy_->named_parameters())
    if (p.value().grad().defined() && !torch::isfinite(p.value().grad()).all().item<bool>())
      where += (where.empty() ? " in " : ", ") + p.key();
  fmt::print(stderr, "ludus: warning: update {} epoch {} minibatch {}: non-finite {} ({}){}; step skipped\n",
             update_ + 1, epoch, mb, std::isfinite(loss) ? "gradient" : "loss", std::isfinite(loss) ? grad_norm : loss,
             std::isfinite(loss) ? where : "");
}

// Rank 0's log describes the whole job: returns, outcomes and sample statistics over
// every rank (learner Elo stays rank 0's: it follows rank 0's matches only).
void Trainer::gather_stats(const Scores& sc, const Steps& steps, UpdateStats& st) {
  const double taken = steps.with_samples;
  std::vector<double> v{sc.returns.sum().item<double>(),
                        static_cast<double>(sc.returns.size(0)),
                        static_cast<double>(sc.wins),
                        static_cast<double>(sc.draws),
                        static_cast<double>(sc.finished),
                        st.entropy * taken,
                        st.kl * taken,
                        st.clip_frac * taken,
                        taken};
  dist_->all_reduce_sum(v, "gathering update statistics");
  st.mean_return = v[0] / std::max(1.0, v[1]);
  st.train_win = v[4] > 0 ? v[2] / v[4] : 0;
  st.train_draw = v[4] > 0 ? v[3] / v[4] : 0;
  st.entropy = v[8] > 0 ? v[5] / v[8] : 0;
  st.kl = v[8] > 0 ? v[6] / v[8] : 0;
  st.clip_frac = v[8] > 0 ? v[7] / v[8] : 0;
}

}  // namespace ludus::rl
