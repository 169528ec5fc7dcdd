// Rollouts: the games of an update (group starts: reset, branch, carry) played decision by
// decision into one Rollout of [steps, learner rows] tensors, and its sanity checks.
#include "trainer_impl.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace ludus::rl {

// Every env of a group starts from the group's seed, then (grpo.start) from a shared
// random-action prefix or from where the group's game stopped last update.
std::vector<uint64_t> Trainer::start_games() {
  auto& im = *impl_;
  const int G = cfg_.grpo.groups, K = cfg_.grpo.group_size;
  std::vector<uint64_t> seeds(static_cast<size_t>(im.num_envs));
  for (int g = 0; g < G; ++g) {
    const uint64_t s = im.rng.next_u64() >> 1;
    for (int k = 0; k < K; ++k) seeds[static_cast<size_t>(g * K + k)] = s;
  }
  im.vec->reset_each(seeds);
  if (cfg_.grpo.start == GroupStart::branch) {
    for (int g = 0; g < G; ++g) branch_group(g, seeds[static_cast<size_t>(g * K)]);
  } else if (cfg_.grpo.start == GroupStart::carry) {
    // Every member of a group goes on from the state the group's first rollout stopped in.
    for (int g = 0; g < G; ++g) {
      const auto& snap = im.carry[static_cast<size_t>(g)];
      if (snap.empty()) continue;
      for (int k = 0; k < K; ++k) {
        im.vec->env(g * K + k).load_state(snap);
        im.vec->observe(g * K + k);
      }
    }
  }
  return seeds;
}

// grpo.start branch: a random-action prefix on the group's first env, then every member
// restored from it.
void Trainer::branch_group(int g, uint64_t seed) {
  auto& im = *impl_;
  const int K = cfg_.grpo.group_size, A = im.spec.num_agents;
  const int64_t D = im.obs_dim, AD = im.adim, every = decision_every();
  std::vector<float> obs(static_cast<size_t>(A * D)), rew(static_cast<size_t>(A)), act(static_cast<size_t>(A * AD));
  std::vector<uint8_t> snap;
  Env& lead = im.vec->env(g * K);
  uint8_t te = 0, tr = 0;
  // A whole number of decision intervals, so the members start at a decision tick.
  const auto prefix =
      im.rng.below(static_cast<uint32_t>(cfg_.grpo.branch_max_ticks / every + 1)) * static_cast<uint32_t>(every);
  for (uint32_t t = 0; t < prefix; ++t) {
    for (int a = 0; a < A; ++a) im.spec.action_space.sample(im.rng, act.data() + a * AD);
    lead.step(act.data(), StepView{obs.data(), rew.data(), &te, &tr});
    if (te || tr) {
      lead.reset(seed, StepView{obs.data(), rew.data(), &te, &tr});
      break;
    }
  }
  lead.save_state(snap);
  for (int k = 0; k < K; ++k) {
    Env& member = im.vec->env(g * K + k);
    if (k > 0) member.load_state(snap);
    im.vec->observe(g * K + k);
  }
}

// The league's draws (opponents, seats) and the games' starts of one collection: on the
// trainer's thread, since they draw from its generator.
Trainer::Collection Trainer::prepare_collection() {
  Collection c;
  c.kick = cfg_.kickstart.weight(samples_);
  auto opponents = choose_opponents();
  const auto seeds = start_games();
  c.seats = seat_opponents(std::move(opponents), seeds, c.kick);
  if (cfg_.overlap && c.seats.nets.count("self")) c.seats.nets.insert_or_assign("self", impl_->actor);
  return c;
}

// Plays a prepared collection and keeps, for grpo.start carry, where each group's game stopped.
void Trainer::run_collection(Collection& c, PolicyNet& net, Rng& rng) {
  auto& im = *impl_;
  const auto t0 = std::chrono::steady_clock::now();
  c.ro = collect(c.seats, c.kick, net, rng);
  if (cfg_.grpo.start == GroupStart::carry)
    for (int g = 0; g < cfg_.grpo.groups; ++g) {
      auto& snap = im.carry[static_cast<size_t>(g)];
      snap.clear();
      if (!c.ro.done[static_cast<size_t>(g * cfg_.grpo.group_size)])
        im.vec->env(g * cfg_.grpo.group_size).save_state(snap);
    }
  c.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Plays the update's games: the learner decides at its decision ticks (a row per
// learner agent), opponents act, and each decision's ticks are stepped on the env workers.
Trainer::Rollout Trainer::collect(Seating& seats, double kick, PolicyNet& net, Rng& rng) {
  auto& im = *impl_;
  const int N = im.num_envs;
  const int64_t R = static_cast<int64_t>(im.learner_rows.size()), AD = im.adim;
  // Rows of the rollout buffers are decisions: the policy acts at ticks that are multiples
  // of the game's decision interval; the ticks between hold the action and add their
  // rewards to that decision.
  const int64_t ticks = cfg_.rollout_ticks > 0 ? cfg_.rollout_ticks : im.spec.max_ticks;
  const int64_t every = decision_every();
  const int64_t T = (ticks + every - 1) / every;
  const bool ppo = cfg_.algo == Algo::ppo;
  auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  Rollout ro;
  ro.obs = torch::zeros({T, R, im.obs_dim}, f32), ro.act = torch::zeros({T, R, AD}, f32);
  ro.logp = torch::zeros({T, R}, f32), ro.ref = torch::zeros({T, R}, f32);
  ro.rew = torch::zeros({T, R}, f32), ro.alive = torch::zeros({T, R}, f32);
  ro.term = torch::zeros({T, R}, f32), ro.boot = torch::zeros({T, R}, f32), ro.val = torch::zeros({T, R}, f32);
  if (kick > 0) ro.teach = torch::zeros({T, R, AD}, f32);
  ro.teach_acts.resize(kick > 0 ? static_cast<size_t>(N * im.spec.num_agents * AD) : 0);
  ro.done.assign(static_cast<size_t>(N), 0);
  ro.outcome.assign(static_cast<size_t>(N), 2);
  ro.acts.resize(static_cast<size_t>(R * AD)), ro.env_acts.resize(static_cast<size_t>(R * AD));
  {
    torch::NoGradGuard no_grad;
    net->eval();
    const auto log_std = net->log_std();
    if (log_std.defined()) ro.log_std_cpu = log_std.detach().to(torch::kCPU);
    for (int64_t t = 0; t < T; ++t) {
      if (std::all_of(ro.done.begin(), ro.done.end(), [](uint8_t d) { return d != 0; })) break;
      ro.steps = t + 1;
      act_learner(t, ro, seats, kick, net, rng);
      act_opponent_nets(seats, net, rng);
      play_decision(t, std::min(every, ticks - ro.tick), ro, seats, net);
    }
    // Rollouts cut by rollout_ticks bootstrap from the state they stopped in.
    if (ppo && ro.steps > 0) {
      const auto v_last = net->value(im.obs_view().index_select(0, im.learner_rows_t).to(im.device)).to(torch::kCPU);
      for (int64_t r = 0; r < R; ++r)
        if (!ro.done[static_cast<size_t>(im.row_env[static_cast<size_t>(r)])]) ro.boot[ro.steps - 1][r] = v_last[r];
    }
    net->train();
  }
  for (auto* buf : {&ro.obs, &ro.act, &ro.logp, &ro.ref, &ro.rew, &ro.alive, &ro.term, &ro.boot, &ro.val, &ro.teach})
    if (buf->defined()) *buf = buf->narrow(0, 0, ro.steps);
  return ro;
}

// Decision t of the learner: observations, the teacher's actions, sampled actions and
// their log-probabilities (and the reference's and the value for KL and PPO).
void Trainer::act_learner(int64_t t, Rollout& ro, Seating& seats, double kick, PolicyNet& net, Rng& rng) {
  auto& im = *impl_;
  const int N = im.num_envs, A = im.spec.num_agents;
  const int64_t R = static_cast<int64_t>(im.learner_rows.size()), D = im.obs_dim, AD = im.adim;
  auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  const auto& head = net->head();
  const auto log_std_dev = net->log_std();
  const auto x = im.obs_view().index_select(0, im.learner_rows_t);
  ro.obs[t].copy_(x);
  float* alive_t = ro.alive.data_ptr<float>() + t * R;  // a pointer: indexing a tensor per element costs microseconds
  for (int64_t r = 0; r < R; ++r)
    alive_t[r] = ro.done[static_cast<size_t>(im.row_env[static_cast<size_t>(r)])] ? 0.0f : 1.0f;
  if (kick > 0) {
    // What the teacher would do for the learner's agents in this state.
    for (int e = 0; e < N; ++e) {
      if (ro.done[static_cast<size_t>(e)]) continue;
      seats.teacher[static_cast<size_t>(e)]->act(im.vec->env(e), im.vec->obs() + e * A * D,
                                                 seats.learner_ids[static_cast<size_t>(e)],
                                                 ro.teach_acts.data() + static_cast<size_t>(e * A * AD));
    }
    float* tb = ro.teach.data_ptr<float>() + t * R * AD;
    for (int64_t r = 0; r < R; ++r)
      std::copy_n(ro.teach_acts.data() + im.learner_rows[static_cast<size_t>(r)] * AD, AD, tb + r * AD);
  }
  const auto xd = x.to(im.device);
  const auto out = net->forward(xd);
  head.sample(out.to(torch::kCPU), ro.log_std_cpu, rng, /*greedy=*/false, ro.acts.data(), ro.env_acts.data());
  const auto act_t = torch::from_blob(ro.acts.data(), {R, AD}, f32).clone();
  ro.act[t].copy_(act_t);
  const auto act_d = act_t.to(im.device);
  ro.logp[t].copy_(head.log_prob(out, log_std_dev, act_d).to(torch::kCPU));
  if (cfg_.grpo.kl_coef > 0 && cfg_.algo != Algo::ppo)
    ro.ref[t].copy_(head.log_prob(im.ref->forward(xd), im.ref->log_std(), act_d).to(torch::kCPU));
  if (cfg_.algo == Algo::ppo) ro.val[t].copy_(net->value(xd).to(torch::kCPU));
  float* vec_act = im.vec->actions();
  for (int64_t r = 0; r < R; ++r)
    std::copy_n(ro.env_acts.data() + r * AD, AD, vec_act + im.learner_rows[static_cast<size_t>(r)] * AD);
}

// The n ticks of decision t: one pool task per env steps it through them, its scripted
// bot asked every tick, as in a match (each reads its own env, on that env's worker).
// Finished games are not stepped: their rows are dead for the rest of the rollout.
void Trainer::play_decision(int64_t t, int64_t n, Rollout& ro, Seating& seats, PolicyNet& net) {
  auto& im = *impl_;
  const int N = im.num_envs, A = im.spec.num_agents, K = cfg_.grpo.group_size;
  const int64_t R = static_cast<int64_t>(im.learner_rows.size()), D = im.obs_dim;
  float* rew_t = ro.rew.data_ptr<float>() + t * R;
  float* term_t = ro.term.data_ptr<float>() + t * R;
  float* boot_t = ro.boot.data_ptr<float>() + t * R;
  ro.tick += n;
  const auto te = std::chrono::steady_clock::now();
  im.vec->step_ticks(
      n,
      [&](int e, int, float* env_actions) {
        if (auto& bot = seats.env_bot[static_cast<size_t>(e)])
          bot->act(im.vec->env(e), im.vec->obs() + e * A * D, seats.opp_ids[static_cast<size_t>(e)], env_actions);
      },
      ro.done.data());
  ro.env_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();
  const float* rew_all = im.vec->rewards();
  for (int64_t r = 0; r < R; ++r) {
    const int e = im.row_env[static_cast<size_t>(r)];
    if (ro.done[static_cast<size_t>(e)]) continue;
    rew_t[r] += rew_all[im.learner_rows[static_cast<size_t>(r)]];
    if (im.vec->terminated()[e] != 0) term_t[r] = 1.0f;
    if (im.vec->truncated()[e] != 0 && cfg_.algo == Algo::ppo) {
      const auto fo =
          torch::from_blob(const_cast<float*>(im.vec->final_obs()) + im.learner_rows[static_cast<size_t>(r)] * D,
                           {1, D}, torch::TensorOptions().dtype(torch::kFloat));
      boot_t[r] = net->value(fo.to(im.device)).to(torch::kCPU)[0].item<float>();
    }
  }
  for (int e = 0; e < N; ++e) {
    if (ro.done[static_cast<size_t>(e)] || !(im.vec->terminated()[e] || im.vec->truncated()[e])) continue;
    ro.done[static_cast<size_t>(e)] = 1;
    const int winner = im.vec->finished_result(e).winner, side = im.group_side[static_cast<size_t>(e / K)];
    const int o = winner < 0 ? 0 : (winner == side ? 1 : -1);
    ro.outcome[static_cast<size_t>(e)] = o;
    const auto& bonus = cfg_.outcome_reward;
    const double add = o > 0 ? bonus.win : (o == 0 ? bonus.draw : bonus.loss);
    if (add != 0)
      for (int64_t r = 0; r < R; ++r)
        if (im.row_env[static_cast<size_t>(r)] == e) rew_t[r] += static_cast<float>(add);
  }
}

// A non-finite observation or reward stops training before the update changes anything,
// naming the first bad value: which tensor, env, agent, decision and tick.
void Trainer::check_rollout(const Rollout& ro) const {
  const auto& im = *impl_;
  for (const auto* buf : {&ro.obs, &ro.rew}) {
    if (torch::isfinite(*buf).all().item<bool>()) continue;
    const auto bad = (~torch::isfinite(buf->dim() == 3 ? buf->sum(2) : *buf)).nonzero();
    const int64_t t = bad.size(0) ? bad[0][0].item<int64_t>() : 0, r = bad.size(0) ? bad[0][1].item<int64_t>() : 0;
    const auto row = static_cast<size_t>(r);
    throw TrainingError(fmt::format(
        "game '{}' produced a non-finite {} (env {}, agent {}, decision {} = tick {} of the rollout) during update "
        "{}; training stopped before this update changed anything: the run's checkpoints are intact",
        cfg_.env, buf == &ro.obs ? "observation" : "reward", im.row_env[row], im.learner_rows[row] % im.spec.num_agents,
        t, t * decision_every(), update_ + 1));
  }
}

// A policy whose outputs are not finite (weights gone NaN/inf) cannot be optimized from
// its own samples: the update is skipped (on every rank), and too many in a row stop training.
bool Trainer::policy_outputs_finite(const Rollout& ro) {
  auto& im = *impl_;
  bool finite = torch::isfinite(ro.logp).all().item<bool>();
  std::vector<double> bad{finite ? 0.0 : 1.0};
  dist_->all_reduce_sum(bad, "agreeing on finite policy outputs");
  finite = bad[0] == 0;
  if (!finite) {
    if (is_main())
      fmt::print(stderr,
                 "ludus: warning: update {}: the policy produced non-finite log-probabilities; update skipped\n",
                 update_ + 1);
    if (++im.consecutive_bad >= cfg_.max_bad_updates) throw_bad_updates();
  }
  return finite;
}

}  // namespace ludus::rl
