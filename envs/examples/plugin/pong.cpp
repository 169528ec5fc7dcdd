// Pong, as a ludus plugin: a game and a scripted opponent, built outside the framework
// against the installed package (see CMakeLists.txt next to this file and
// docs/custom-env.md). Everything a game needs is here, in one file:
//   options (typed, documented, with ranges) -> spec -> reset/step -> observe ->
//   save/load -> draw -> result, then one line registers the game and one the bot.
//
// Two paddles, one ball. A paddle hit sends the ball off at an angle set by where it
// struck the paddle (up to max_angle at the edges) and 5% faster, up to max_speed; a
// ball faster vertically than a paddle can move is the way to beat a paddle that
// follows the ball. A point is scored when the ball leaves the field behind a paddle;
// the first team to target_score wins, or the higher score at max_ticks.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/bytes.hpp"
#include "ludus/engine/env.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/rng.hpp"

namespace pong {

// ---- options: every key typed, ranged and documented (ludus config show --env pong) -----

struct PongOptions {
  int target_score = 5;         // first to this many points wins
  int max_ticks = 3000;         // the episode is truncated here (higher score wins)
  double paddle_speed = 0.015;  // paddle travel per tick (field height is 1)
  double paddle_half = 0.1;     // half the paddle length
  double serve_speed = 0.012;   // ball speed after a serve, per tick
  double max_speed = 0.03;      // ball speed cap
  double max_angle_deg = 60;    // bounce angle at the paddle's edge
  double hit_reward = 0.0;      // shaping: reward for returning the ball (0: points only)
  double angle_reward = 0.0;    // shaping: reward for a return, times its angle / max_angle

  void visit(ludus::OptionVisitor& v) {
    v.value("target_score", target_score, 1, 100, "points that win the match");
    v.value("max_ticks", max_ticks, 1, 1000000, "ticks before the match is truncated (higher score wins)");
    v.value("paddle_speed", paddle_speed, 1e-4, 1.0, "paddle travel per tick (the field is 1.6 x 1)");
    v.value("paddle_half", paddle_half, 0.01, 0.5, "half the paddle length");
    v.value("serve_speed", serve_speed, 1e-4, 1.0, "ball speed after a serve, per tick");
    v.value("max_speed", max_speed, 1e-4, 1.0, "ball speed cap, per tick");
    v.value("max_angle_deg", max_angle_deg, 0.0, 80.0, "bounce angle off the paddle's edge, degrees");
    v.value("hit_reward", hit_reward, 0.0, 1.0, "reward for returning the ball (0: only points)");
    v.value("angle_reward", angle_reward, 0.0, 1.0,
            "reward for a return times |angle| / max_angle: a hit off the paddle's edge earns it all (0: off)");
  }
};

constexpr float kWidth = 1.6f, kHeight = 1.0f;
constexpr float kBallRadius = 0.015f;
constexpr float kPaddleX = 0.04f;  // paddle centre line, from its own goal line
constexpr float kPaddleThickness = 0.02f;
constexpr uint32_t kSnapshotMagic = 0x474E4F50;  // "PONG"

// Everything that changes during a match: plain values, so a snapshot is a byte copy.
struct State {
  int64_t tick = 0;
  std::array<int32_t, 2> score{};
  std::array<float, 2> paddle_y{};  // team 0 at the left, team 1 at the right
  float bx = 0, by = 0, vx = 0, vy = 0;
  int32_t done = 0;
  int32_t pad = 0;  // explicit, so snapshots carry no uninitialized bytes
  std::array<uint64_t, 4> rng{};
};
static_assert(sizeof(State) == 80, "State must stay padding-free: it is saved as raw bytes");

// Actions: discrete(3) per agent: 0 stay, 1 up (y grows), 2 down.
// Observation (8 floats, in [-1, 1], mirrored for team 1 so both play from the left):
//   ball x, ball y, ball vx, ball vy (/ max_speed), own paddle y, opponent paddle y,
//   score difference / target_score, time left.
class PongEnv final : public ludus::Env {
 public:
  static constexpr int kObs = 8;

  explicit PongEnv(const PongOptions& options) : options_(options) {
    spec_.name = "pong";
    spec_.num_teams = 2;
    spec_.num_agents = 2;
    spec_.agent_team = {0, 1};
    spec_.obs_shape = {kObs};
    spec_.action_space = ludus::ActionSpace::discrete(3);
    spec_.tick_rate_hz = 60;
    spec_.max_ticks = options_.max_ticks;
    spec_.validate();
  }

  const ludus::EnvSpec& spec() const override { return spec_; }
  int64_t tick() const override { return s_.tick; }
  const State& state() const { return s_; }  // for scripted bots
  const PongOptions& options() const { return options_; }

  void reset(uint64_t seed, ludus::StepView out) override {
    rng_.seed(seed);
    s_ = State{};
    s_.paddle_y = {kHeight / 2, kHeight / 2};
    serve(static_cast<int>(rng_.below(2)));
    s_.rng = rng_.state();
    out.reward[0] = out.reward[1] = 0;
    *out.terminated = *out.truncated = 0;
    observe(out.obs);
  }

  void step(const float* actions, ludus::StepView out) override {
    rng_.set_state(s_.rng);
    out.reward[0] = out.reward[1] = 0;
    // Paddles.
    const float half = static_cast<float>(options_.paddle_half), speed = static_cast<float>(options_.paddle_speed);
    for (int t = 0; t < 2; ++t) {
      const int a = std::clamp(static_cast<int>(actions[t]), 0, 2);
      const float dir = a == 1 ? 1.0f : a == 2 ? -1.0f : 0.0f;
      s_.paddle_y[t] = std::clamp(s_.paddle_y[t] + dir * speed, half, kHeight - half);
    }
    // Ball: move, bounce off the side walls, then the paddles.
    const float px = s_.bx;
    s_.bx += s_.vx;
    s_.by += s_.vy;
    if (s_.by < kBallRadius) s_.by = 2 * kBallRadius - s_.by, s_.vy = -s_.vy;
    if (s_.by > kHeight - kBallRadius) s_.by = 2 * (kHeight - kBallRadius) - s_.by, s_.vy = -s_.vy;
    for (int t = 0; t < 2; ++t) {
      // The paddle's face, and the ball's leading edge before and after the move.
      const float face = t == 0 ? kPaddleX + kPaddleThickness / 2 : kWidth - kPaddleX - kPaddleThickness / 2;
      const bool toward = t == 0 ? s_.vx < 0 : s_.vx > 0;
      const float before = t == 0 ? px - kBallRadius : px + kBallRadius;
      const float after = t == 0 ? s_.bx - kBallRadius : s_.bx + kBallRadius;
      const bool crossed = t == 0 ? (before >= face && after < face) : (before <= face && after > face);
      if (!toward || !crossed) continue;
      const float offset = (s_.by - s_.paddle_y[t]) / (half + kBallRadius);
      if (std::abs(offset) > 1) continue;  // missed
      const float angle = offset * static_cast<float>(options_.max_angle_deg * std::numbers::pi / 180.0);
      const float v = std::min(std::hypot(s_.vx, s_.vy) * 1.05f, static_cast<float>(options_.max_speed));
      s_.vx = (t == 0 ? 1.0f : -1.0f) * v * std::cos(angle);
      s_.vy = v * std::sin(angle);
      s_.bx = t == 0 ? face + kBallRadius : face - kBallRadius;
      out.reward[t] += static_cast<float>(options_.hit_reward + options_.angle_reward * std::abs(offset));
    }
    // Points.
    const int scorer = s_.bx < 0 ? 1 : s_.bx > kWidth ? 0 : -1;
    if (scorer >= 0) {
      ++s_.score[scorer];
      out.reward[scorer] += 1;
      out.reward[1 - scorer] -= 1;
      if (s_.score[scorer] >= options_.target_score) s_.done = 1;
      serve(1 - scorer);  // toward the team that conceded
    }
    ++s_.tick;
    s_.rng = rng_.state();
    *out.terminated = static_cast<uint8_t>(s_.done);
    *out.truncated = (!s_.done && s_.tick >= options_.max_ticks) ? 1 : 0;
    observe(out.obs);
  }

  void observe(float* obs) const override {
    const float vmax = static_cast<float>(options_.max_speed);
    for (int t = 0; t < 2; ++t) {
      const bool m = t == 1;  // team 1 sees the field mirrored left-right
      float* o = obs + t * kObs;
      o[0] = (m ? kWidth - s_.bx : s_.bx) / kWidth * 2 - 1;
      o[1] = s_.by / kHeight * 2 - 1;
      o[2] = std::clamp((m ? -s_.vx : s_.vx) / vmax, -1.0f, 1.0f);
      o[3] = std::clamp(s_.vy / vmax, -1.0f, 1.0f);
      o[4] = s_.paddle_y[t] / kHeight * 2 - 1;
      o[5] = s_.paddle_y[1 - t] / kHeight * 2 - 1;
      o[6] = static_cast<float>(s_.score[t] - s_.score[1 - t]) / static_cast<float>(options_.target_score);
      o[7] = 1 - 2 * static_cast<float>(s_.tick) / static_cast<float>(options_.max_ticks);
      for (int k = 0; k < kObs; ++k) o[k] = std::clamp(o[k], -1.0f, 1.0f);
    }
  }

  void save_state(std::vector<uint8_t>& out) const override {
    out.clear();
    ludus::ByteWriter w(out);
    w.put<uint32_t>(kSnapshotMagic);
    w.put<State>(s_);
  }

  void load_state(std::span<const uint8_t> bytes) override {
    ludus::ByteReader r(bytes, "pong snapshot");
    if (r.get<uint32_t>() != kSnapshotMagic) r.fail("not a pong snapshot");
    const State s = r.get<State>();
    r.expect_end();
    if (s.tick < 0 || s.tick > options_.max_ticks) r.fail("tick out of range");
    if (!std::isfinite(s.bx) || !std::isfinite(s.by) || !std::isfinite(s.vx) || !std::isfinite(s.vy))
      r.fail("non-finite ball state");
    s_ = s;
  }

  void draw(ludus::Frame& f) const override {
    f.clear();
    f.dims = 2;
    f.tick = s_.tick;
    const float b[6] = {0, kWidth, 0, kHeight, 0, 0};
    std::copy(std::begin(b), std::end(b), std::begin(f.bounds));
    f.scores = {static_cast<double>(s_.score[0]), static_cast<double>(s_.score[1])};
    const float field[12] = {0, 0, 0, kWidth, 0, 0, kWidth, kHeight, 0, 0, kHeight, 0};
    f.polygon(field, 4, ludus::Rgba{20, 60, 30, 255});
    f.line2d(kWidth / 2, 0, kWidth / 2, kHeight, ludus::Rgba{200, 200, 200, 120}, 0.005f);
    const float half = static_cast<float>(options_.paddle_half);
    for (int t = 0; t < 2; ++t) {
      const float x = t == 0 ? kPaddleX : kWidth - kPaddleX, y = s_.paddle_y[t], w = kPaddleThickness / 2;
      const float p[12] = {x - w, y - half, 0, x + w, y - half, 0, x + w, y + half, 0, x - w, y + half, 0};
      f.polygon(p, 4, ludus::team_color(t), true, t);
    }
    f.circle(s_.bx, s_.by, kBallRadius, ludus::Rgba{250, 250, 250, 255});
    f.label(kWidth / 2, kHeight - 0.08f, 0, std::to_string(s_.score[0]) + " : " + std::to_string(s_.score[1]),
            ludus::Rgba{255, 255, 255, 255}, 0.06f);
  }

  ludus::MatchResult result() const override {
    return ludus::result_from_scores({static_cast<double>(s_.score[0]), static_cast<double>(s_.score[1])}, s_.tick);
  }

 private:
  void serve(int toward) {
    const double angle = rng_.uniform(-std::numbers::pi / 6, std::numbers::pi / 6);
    const float v = static_cast<float>(options_.serve_speed);
    s_.bx = kWidth / 2;
    s_.by = static_cast<float>(rng_.uniform(0.3, 0.7)) * kHeight;
    s_.vx = (toward == 0 ? -1.0f : 1.0f) * v * static_cast<float>(std::cos(angle));
    s_.vy = v * static_cast<float>(std::sin(angle));
  }

  PongOptions options_;
  ludus::EnvSpec spec_;
  State s_;
  ludus::Rng rng_;
};

// A scripted opponent: when the ball comes toward it, the paddle follows the ball's
// height; otherwise it drifts back to the middle. It returns every ball a paddle can
// reach, and misses balls that climb faster than its paddle moves.
class Tracker final : public ludus::Agent {
 public:
  void reset(const ludus::Env&, int team, uint64_t) override { team_ = team; }
  void act(const ludus::Env& env, const float*, std::span<const int> agent_ids, float* actions) override {
    const auto& game = dynamic_cast<const PongEnv&>(env);
    const State& s = game.state();
    const bool coming = team_ == 0 ? s.vx < 0 : s.vx > 0;
    const float target = coming ? s.by : kHeight / 2;
    const float dy = target - s.paddle_y[team_], dead = static_cast<float>(game.options().paddle_speed);
    for (int id : agent_ids) actions[id] = dy > dead ? 1.0f : dy < -dead ? 2.0f : 0.0f;
  }

 private:
  int team_ = 0;
};

}  // namespace pong

LUDUS_REGISTER_ENV("pong", pong::PongEnv, pong::PongOptions,
                   "two-paddle Pong (a plugin example: envs/examples/plugin)");
LUDUS_REGISTER_AGENT("tracker", {"pong"}, "pong: follows the ball's height when it comes toward its paddle",
                     [](const ludus::AgentArgs&) -> std::unique_ptr<ludus::Agent> {
                       return std::make_unique<pong::Tracker>();
                     });
