// Tug of war: the minimal complete ludus game (docs/custom-env.md walks through it).
// Each tick both teams choose how hard to pull (0 rest, 1 pull, 2 heave). Pulling costs
// stamina, resting restores it, and a tired team pulls weakly: the rope moves by the
// difference of the two pulls. A team wins when the rope's marker reaches its side
// (|x| >= 1); at max_ticks the side the marker is on wins.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "ludus/engine/bytes.hpp"
#include "ludus/engine/env.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"

namespace tug {

struct TugOptions {
  int max_ticks = 600;
  double pull = 0.01;  // rope travel per tick for a full-strength pull against a rest

  void visit(ludus::OptionVisitor& v) {
    v.value("max_ticks", max_ticks, 1, 100000, "ticks before the side the marker is on wins");
    v.value("pull", pull, 1e-4, 0.5, "rope travel per tick of a fresh, full pull");
  }
};

class TugEnv final : public ludus::Env {
 public:
  explicit TugEnv(const TugOptions& o) : o_(o) {
    spec_.name = "tug";
    spec_.num_teams = 2;
    spec_.num_agents = 2;
    spec_.agent_team = {0, 1};
    spec_.obs_shape = {4};  // own stamina, opponent stamina, rope (own side +), time left
    spec_.action_space = ludus::ActionSpace::discrete(3);
    spec_.max_ticks = o.max_ticks;
    spec_.validate();
  }
  const ludus::EnvSpec& spec() const override { return spec_; }
  int64_t tick() const override { return s_.tick; }

  void reset(uint64_t, ludus::StepView out) override {
    s_ = State{};  // no randomness: every episode starts the same
    write(out, {0, 0});
  }

  void step(const float* actions, ludus::StepView out) override {
    std::array<double, 2> force{};
    for (int t = 0; t < 2; ++t) {
      const int a = std::clamp(static_cast<int>(actions[t]), 0, 2);  // policies may send anything
      force[t] = a * 0.5 * s_.stamina[t];                            // a tired team pulls weakly
      s_.stamina[t] = std::clamp(s_.stamina[t] + (a == 0 ? 0.02 : -0.015 * a), 0.0, 1.0);
    }
    const double before = s_.x;
    s_.x = std::clamp(s_.x + o_.pull * (force[1] - force[0]), -1.0, 1.0);  // team 0 pulls toward -1
    ++s_.tick;
    const auto gain = static_cast<float>((before - s_.x) * 10);  // shaping: rope gained toward own side
    write(out, {gain, -gain});
  }

  void observe(float* obs) const override {
    for (int t = 0; t < 2; ++t) {
      const double side = t == 0 ? -s_.x : s_.x;  // + when the rope is on this team's side
      float* o = obs + t * 4;
      o[0] = static_cast<float>(s_.stamina[t] * 2 - 1);
      o[1] = static_cast<float>(s_.stamina[1 - t] * 2 - 1);
      o[2] = static_cast<float>(side);
      o[3] = static_cast<float>(1 - 2.0 * static_cast<double>(s_.tick) / o_.max_ticks);
    }
  }

  void save_state(std::vector<uint8_t>& out) const override {
    out.clear();
    ludus::ByteWriter w(out);
    w.put<State>(s_);
  }
  void load_state(std::span<const uint8_t> bytes) override {
    ludus::ByteReader r(bytes, "tug snapshot");
    const State s = r.get<State>();
    r.expect_end();
    if (s.tick < 0 || s.tick > o_.max_ticks || !(std::abs(s.x) <= 1)) r.fail("not a tug state");
    s_ = s;
  }

  void draw(ludus::Frame& f) const override {
    f.clear();
    f.tick = s_.tick;
    const float b[6] = {-1.2f, 1.2f, -0.5f, 0.5f, 0, 0};
    std::copy(std::begin(b), std::end(b), std::begin(f.bounds));
    f.scores = {-s_.x, s_.x};
    f.line2d(-1, 0, 1, 0, ludus::Rgba{180, 150, 100, 255}, 0.03f);
    for (int t = 0; t < 2; ++t)  // each team's stamina as the size of its puller
      f.circle(t == 0 ? -1.1f : 1.1f, 0, static_cast<float>(0.03 + 0.07 * s_.stamina[t]), ludus::team_color(t), t);
    f.circle(static_cast<float>(s_.x), 0, 0.04f, ludus::Rgba{255, 255, 255, 255});
  }

  ludus::MatchResult result() const override { return ludus::result_from_scores({-s_.x, s_.x}, s_.tick); }

 private:
  struct State {
    int64_t tick = 0;
    double x = 0;  // rope marker, -1 (team 0 wins) .. +1 (team 1 wins)
    std::array<double, 2> stamina{1.0, 1.0};
  };

  void write(ludus::StepView out, std::array<float, 2> reward) const {
    out.reward[0] = reward[0], out.reward[1] = reward[1];
    *out.terminated = std::abs(s_.x) >= 1 ? 1 : 0;
    *out.truncated = (!*out.terminated && s_.tick >= o_.max_ticks) ? 1 : 0;
    observe(out.obs);
  }

  TugOptions o_;
  ludus::EnvSpec spec_;
  State s_;
};

}  // namespace tug

LUDUS_REGISTER_ENV("tug", tug::TugEnv, tug::TugOptions, "tug of war with stamina (the minimal plugin example)");
