// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): every game's
// snapshots and frames at a few ticks, in the byte layout each target reads. Run from the
// fuzz build: build-fuzz/fuzz/make_seeds tests/fuzz/corpus (scripts/fuzz.sh --seeds).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "load_state_cases.hpp"
#include "ludus/engine/bytes.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/rng.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::vector<uint8_t>& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  const auto& cases = ludus_fuzz::kLoadStateCases;
  for (uint8_t c = 0; c < cases.size(); ++c) {
    auto env = ludus::make_env(cases[c].game, ludus::ConfigTree::from_string(cases[c].options, "seed options"));
    const auto& s = env->spec();
    std::vector<float> obs(static_cast<size_t>(s.num_agents * s.obs_dim())), rew(static_cast<size_t>(s.num_agents));
    std::vector<float> act(static_cast<size_t>(s.num_agents * s.action_dim()), 0.0f);
    uint8_t te = 0, tr = 0;
    const ludus::StepView view{obs.data(), rew.data(), &te, &tr};
    env->reset(7, view);
    ludus::Rng rng(1);
    for (int64_t tick : {0, 90, 400}) {
      while (env->tick() < tick && !te && !tr) {
        for (int i = 0; i < s.num_agents; ++i) s.action_space.sample(rng, act.data() + i * s.action_dim());
        env->step(act.data(), view);
      }
      const std::string name = std::to_string(c) + "_" + s.name + "_t" + std::to_string(tick);
      std::vector<uint8_t> snap{c};
      std::vector<uint8_t> state;
      env->save_state(state);
      snap.insert(snap.end(), state.begin(), state.end());
      write(root / "fuzz_load_state" / name, snap);
      ludus::Frame f;
      env->draw(f);
      std::vector<uint8_t> frame;
      ludus::ByteWriter w(frame);
      f.serialize(w);
      write(root / "fuzz_frame" / name, frame);
    }
  }
  return 0;
}
