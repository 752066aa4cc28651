"""`convsuite bench atari`: this suite's figures (the Stable-Baselines3 peer is an optional extra)."""

from convsuite.common import registry
from convsuite.suites.atari import bench


def test_bench_reports_env_update_and_loop_speed_and_says_how_to_add_the_peer(monkeypatch):
    monkeypatch.setattr(bench, "sb3_available", lambda: False)
    experiment = registry.make_experiment("atari", "dqn-pong", ["data.num_envs=2"])
    result = bench.run_bench(experiment, steps=200)
    for key in ("ours_env_steps_per_s", "ours_updates_per_s", "ours_loop_steps_per_s"):
        assert result[key] > 0, key
    assert result["num_envs"] == 2 and result["replay_size"] == bench.BENCH_REPLAY
    assert "atari-peer" in result["peer"] and "ratio_loop_steps_per_s" not in result


def test_the_bench_experiment_keeps_the_settings_that_cost_time():
    experiment = registry.make_experiment("atari", "dqn-breakout", ["data.num_envs=4"])
    run = bench.bench_experiment(experiment, 1000)
    assert run.agent.train_every == 4 and run.trainer.batch_size == 32 and run.data.num_envs == 4
    assert run.agent.replay_start == bench.BENCH_START and run.agent.total_steps == bench.BENCH_START + 1000
    assert run.trainer.optimizer == "rmsprop" and run.data.game == "Breakout"
