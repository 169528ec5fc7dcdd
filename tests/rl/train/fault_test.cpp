// Training faults: a NaN in an observation, a reward or a gradient is caught and named,
// and the run either skips the step or stops with its last good checkpoint intact; a
// full disk while checkpointing leaves the previous checkpoint usable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/rl/checkpoint.hpp"
#include "test_temp.hpp"
#include "ludus/train/trainer.hpp"

namespace ludus::rl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A two-agent game whose reward or observation goes NaN at a chosen tick of an episode.
struct ProbeOptions {
  int nan_tick = -1;    // -1: never
  int nan_episode = 1;  // from this episode of the instance on (1: the first)
  std::string what = "reward";
  int max_ticks = 20;
  void visit(OptionVisitor& v) {
    static constexpr std::string_view kWhat[] = {"reward", "observation"};
    v.value("nan_tick", nan_tick, -1, 1000000, "tick at which the value goes NaN (-1: never)");
    v.value("nan_episode", nan_episode, 1, 1000000, "first episode of this instance with the NaN");
    v.value("what", what, kWhat, "which value goes NaN");
    v.value("max_ticks", max_ticks, 1, 100000, "episode length");
  }
};

class ProbeEnv final : public Env {
 public:
  explicit ProbeEnv(ProbeOptions o) : o_(std::move(o)) {
    spec_.name = "fault_probe";
    spec_.num_teams = 2;
    spec_.num_agents = 2;
    spec_.agent_team = {0, 1};
    spec_.obs_shape = {3};
    spec_.action_space = ActionSpace::discrete(3);
    spec_.max_ticks = o_.max_ticks;
    spec_.validate();
  }
  const EnvSpec& spec() const override { return spec_; }
  void reset(uint64_t seed, StepView out) override {
    tick_ = 0;
    ++episode_;
    x_[0] = x_[1] = static_cast<float>(seed % 7);
    write(out, nullptr);
  }
  void step(const float* actions, StepView out) override {
    ++tick_;
    for (int i = 0; i < 2; ++i) x_[i] += actions[i] - 1;
    write(out, actions);
  }
  void observe(float* obs) const override {
    for (int i = 0; i < 2; ++i) {
      obs[i * 3] = x_[i] * 0.1f, obs[i * 3 + 1] = x_[1 - i] * 0.1f, obs[i * 3 + 2] = static_cast<float>(tick_) * 0.05f;
      if (o_.what == "observation" && nan_now() && i == 1) obs[i * 3 + 1] = NAN;
    }
  }
  void save_state(std::vector<uint8_t>& out) const override {
    out.assign(reinterpret_cast<const uint8_t*>(&tick_), reinterpret_cast<const uint8_t*>(&tick_) + sizeof tick_);
  }
  void load_state(std::span<const uint8_t> bytes) override {
    if (bytes.size() != sizeof tick_) throw FormatError("fault probe: bad snapshot");
    std::memcpy(&tick_, bytes.data(), sizeof tick_);
  }
  void draw(Frame&) const override {}
  MatchResult result() const override { return result_from_scores({x_[0], x_[1]}, tick_); }
  int64_t tick() const override { return tick_; }

 private:
  void write(StepView out, const float* actions) const {
    observe(out.obs);
    for (int i = 0; i < 2; ++i) out.reward[i] = actions ? (actions[i] == 2 ? 0.1f : 0.0f) : 0.0f;
    if (actions && o_.what == "reward" && nan_now()) out.reward[1] = NAN;
    *out.terminated = 0;
    *out.truncated = tick_ >= o_.max_ticks ? 1 : 0;
  }
  bool nan_now() const { return tick_ == o_.nan_tick && episode_ >= o_.nan_episode; }
  ProbeOptions o_;
  EnvSpec spec_;
  int64_t tick_ = 0, episode_ = 0;
  float x_[2] = {0, 0};
};

LUDUS_REGISTER_ENV("fault_probe", ProbeEnv, ProbeOptions, "test game: a value goes NaN at a chosen tick");

TrainConfig probe_config(const std::string& dir, const std::string& game) {
  ConfigTree t = ConfigTree::from_string(R"(
env: fault_probe
threads: 1
total_steps: 100000000
epochs: 1
minibatches: 1
checkpoint_every: 1
network: {hidden: 8, layers: 1}
grpo: {groups: 2, group_size: 2, drop_degenerate: false}
opponents: {bots: "random"}
eval: {every: 0, matches: 2, replays: 0, opponent: random}
)",
                                         "fault config");
  t.apply_override("run_dir=" + dir);
  auto cfg = bind_options<TrainConfig>(t);
  cfg.game = ConfigTree::from_string(game, "probe game");
  return cfg;
}

void expect_stop_naming(const std::string& what) {
  const ludus_test::TempDir tmp;
  const auto dir = tmp.file("run");
  // Each env's 7th episode and later carry the NaN (at tick 5): the first updates are
  // clean and checkpointed, a later one meets the NaN.
  auto t = Trainer::create(probe_config(dir, "{nan_tick: 5, nan_episode: 7, what: " + what + "}"));
  std::string message;
  try {
    t->train([](const UpdateStats& s) { return s.update < 20; });
    FAIL() << "a NaN " << what << " went unnoticed";
  } catch (const TrainingError& e) {
    message = e.what();
  }
  const int64_t done = t->updates_done();
  ASSERT_GE(done, 1) << message;
  EXPECT_THAT(message, HasSubstr("non-finite " + what));
  EXPECT_THAT(message, HasSubstr("agent 1"));
  // The reward of the step into tick 5 belongs to decision 4; the observation at tick 5
  // is decision 5's.
  EXPECT_THAT(message, HasSubstr(what == "reward" ? "decision 4 = tick 4" : "decision 5 = tick 5"));
  EXPECT_THAT(message, HasSubstr("during update " + std::to_string(done + 1)));
  EXPECT_THAT(message, HasSubstr("checkpoints are intact"));
  t.reset();
  // The last good checkpoint is whole: its weights are finite and the run resumes from it.
  const auto last = load_checkpoint((fs::path(dir) / "checkpoints" / fmt::format("ckpt_{:07d}.pt", done)).string());
  for (const auto& p : last.net->parameters()) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  EXPECT_EQ(Trainer::resume(dir)->updates_done(), done);
}

TEST(TrainingFaults, NanRewardStopsAndNamesIt) { expect_stop_naming("reward"); }

TEST(TrainingFaults, NanObservationStopsAndNamesIt) { expect_stop_naming("observation"); }

TEST(TrainingFaults, NanGradientIsSkippedAndNamedThenStops) {
  const ludus_test::TempDir tmp;
  auto cfg = probe_config(tmp.file("run"), "{max_ticks: 20}");
  cfg.max_bad_updates = 3;
  auto t = Trainer::create(cfg);
  t->train([](const UpdateStats& s) { return s.update < 2; });
  const auto before = t->policy()->named_parameters()["policy.0.weight"].clone();
  // Every gradient of one weight is NaN from now on (as a diverged backward would be).
  auto w = t->policy()->named_parameters()["policy.0.weight"];
  w.register_hook([](torch::Tensor g) { return g * NAN; });
  testing::internal::CaptureStderr();
  try {
    t->train([](const UpdateStats& s) { return s.update < 10; });
    FAIL() << "NaN gradients did not stop training";
  } catch (const TrainingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("3 consecutive updates"));
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("non-finite gradient"));
  EXPECT_THAT(log, HasSubstr("in policy.0.weight"));
  EXPECT_THAT(log, HasSubstr("step skipped"));
  // Skipped steps leave the weights as they were (finite, unchanged).
  EXPECT_TRUE(torch::equal(before, t->policy()->named_parameters()["policy.0.weight"]));
}

TEST(TrainingFaults, FullDiskWhileCheckpointingKeepsThePreviousCheckpoint) {
  const ludus_test::TempDir tmp;
  auto cfg = probe_config(tmp.file("run"), "{max_ticks: 20}");
  auto t = Trainer::create(cfg);
  t->train([](const UpdateStats& s) { return s.update < 1; });
  const auto good = tmp.file("good.pt");
  t->save(good);
  const auto size = fs::file_size(good);
  // A file size limit below one checkpoint: writes fail with EFBIG (SIGXFSZ ignored),
  // as on a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = static_cast<rlim_t>(size / 2);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  try {
    t->save(good);
    ADD_FAILURE() << "a checkpoint write that cannot fit succeeded";
  } catch (const CheckpointError& e) {
    EXPECT_THAT(e.what(), HasSubstr("disk full"));
  }
  setrlimit(RLIMIT_FSIZE, &old);
  EXPECT_EQ(fs::file_size(good), size) << "the previous checkpoint was overwritten";
  const auto back = load_checkpoint(good);
  EXPECT_EQ(back.meta.update, 1);
}

}  // namespace
}  // namespace ludus::rl
