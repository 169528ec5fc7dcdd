// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/): every game's
// snapshots and frames at a few ticks, and checkpoint metadata records and containers of
// a few network shapes, in the byte layout each target reads. Run from the
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
#include "ludus/rl/checkpoint_meta.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::vector<uint8_t>& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// fuzz_checkpoint: a metadata record (first byte odd) and the container around it (even).
void write_checkpoint_seeds(const fs::path& dir) {
  using ludus::rl::CheckpointMeta;
  std::vector<std::pair<std::string, CheckpointMeta>> metas;
  CheckpointMeta mlp;
  mlp.env = "codeball";
  mlp.game_yaml = "team_size: 1\nmicroticks: 20\n";
  mlp.config_yaml = "env: codeball\nalgo: grpo\n";
  mlp.algo = "grpo";
  mlp.obs_dim = 48;
  mlp.action_space = ludus::ActionSpace::discrete(18);
  mlp.update = 120;
  mlp.samples = 3'000'000;
  mlp.rng = {1, 2, 3, 4};
  metas.emplace_back("mlp_discrete", mlp);
  CheckpointMeta entity = mlp;
  entity.env = "codewars";
  entity.algo = "ppo";
  entity.network.arch = "entity";
  entity.network.entity_count = 10;
  entity.network.entity_features = 6;
  entity.action_space = ludus::ActionSpace::multi_discrete({5, 9, 3});
  entity.value_head = true;
  entity.ratings = {{"swarm", 1210.5}, {"snapshot_0000100", 1003.0}};
  entity.pool = {"league/snapshot_0000100.pt"};
  metas.emplace_back("entity_multi", entity);
  CheckpointMeta box = mlp;
  box.env = "reach";
  box.action_space = ludus::ActionSpace::box({-1.0f, -1.0f}, {1.0f, 1.0f});
  box.best_eval = 0.625;
  metas.emplace_back("box", box);
  for (const auto& [name, meta] : metas) {
    std::vector<uint8_t> record{1};
    const auto bytes = ludus::rl::encode_checkpoint_meta(meta);
    record.insert(record.end(), bytes.begin(), bytes.end());
    write(dir / ("meta_" + name), record);
    std::vector<uint8_t> file{0};
    const auto container = ludus::rl::checkpoint_container(bytes);
    file.insert(file.end(), container.begin(), container.end());
    write(dir / ("file_" + name), file);
  }
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
  write_checkpoint_seeds(root / "fuzz_checkpoint");
  return 0;
}
