"""tuning=full|lora|qlora on every model family: what trains, what is saved, merged, resumed, and the errors."""

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from genlab import api
from genlab.errors import ConfigError
from genlab.tuning.quantize import is_4bit
from helpers import env_with_test_modules, run_cli

LIMITS = [
    "logger=none",
    "callbacks=none",
    "extras.print_config=false",
    "trainer.max_epochs=1",
    "+trainer.limit_train_batches=12",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
    "+trainer.enable_progress_bar=false",
]
# One model of each family, with data small enough for a quick fit; lr high enough that a few steps show.
FAMILIES = {
    "ffn": ["model=ffn", "data=digits", "task.optimizer.lr=0.01"],
    "cnn": ["model=cnn", "data=digits", "model.channels=[8,16]", "model.fc_size=32", "task.optimizer.lr=0.01"],
    "rnn": ["model=rnn", "data=digits", "model.cell=lstm", "model.hidden_size=32", "task.optimizer.lr=0.01"],
    "transformer": ["model=transformer", "data=digits", "model.embed_dim=32", "task.optimizer.lr=0.01"],
    "transformer_lm": [
        "model=transformer_lm",
        "data=fortunes",
        "task=language_modeling",
        "data.files=[computers]",
        "data.block_size=32",
        "data.tokenizer.vocab_size=300",
        "model.embed_dim=32",
        "model.ff_dim=64",
        "model.num_layers=2",
        "task.optimizer.lr=0.01",
        "monitor=val/loss",
        "monitor_mode=min",
    ],
    "hf_causal": [
        "model=hf_causal",
        "data=fortunes",
        "data/tokenizer=hf",
        "task=language_modeling",
        "data.files=[computers]",
        "data.block_size=32",
        "task.optimizer.lr=0.01",
        "monitor=val/loss",
        "monitor_mode=min",
    ],
    "hf_seqcls": [
        "model=hf_seqcls",
        "data=movie_reviews",
        "task=sequence_classification",
        "data.max_length=32",
        "task.optimizer.lr=0.01",
    ],
    "diffusion": [
        "experiment=diffusion",
        "data=digits",
        "model.block_out_channels=[16,32]",
        "model.attention_levels=[1]",
        "task.optimizer.lr=0.01",
    ],
}


def overrides_for(family: str, tuning: str, model_source: dict) -> list[str]:
    return [*FAMILIES[family], *model_source.get(family, []), f"tuning={tuning}", *LIMITS]


def batch_loss(module: L.LightningModule, batch) -> float:
    module.eval()
    with torch.no_grad():
        loss = float(module._step(batch, "test"))
    module.train()
    return loss


@pytest.mark.parametrize("tuning", ["lora", "qlora"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_adapters_train_and_only_they_change(family, tuning, run_dir, model_source):
    composed = api.compose(overrides_for(family, tuning, model_source), run_dir)
    L.seed_everything(0)
    exp = api.build(composed)
    exp.datamodule.setup("fit")
    batch = next(iter(exp.datamodule.train_dataloader()))
    before = {k: v.clone() for k, v in exp.module.state_dict().items()}
    loss_before = batch_loss(exp.module, batch)

    exp.trainer.fit(exp.module, datamodule=exp.datamodule)

    assert batch_loss(exp.module, batch) < loss_before
    trainable = {n for n, p in exp.module.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "modules_to_save" in n for n in trainable), sorted(trainable)[:5]
    if family in ("ffn", "cnn", "rnn", "transformer", "hf_seqcls"):  # classifiers: a new head trains in full
        assert any("modules_to_save" in n for n in trainable)
    after = exp.module.state_dict()
    for name, value in before.items():
        changed = not torch.equal(value, after[name])
        if name in trainable and "lora_B" in name:
            assert changed, f"{name} did not train"
        elif name not in trainable and not name.startswith("ema."):  # a diffusion model's EMA follows the adapters
            assert not changed, f"frozen {name} changed"
    quantized = [m for m in exp.module.modules() if is_4bit(m)]
    # an LSTM's only linear layer is its head, which trains in full: nothing there to quantize
    assert bool(quantized) == (tuning == "qlora" and family != "rnn")


@pytest.mark.parametrize("family", ["ffn", "hf_causal"])
def test_full_tuning_trains_everything(family, run_dir, model_source):
    composed = api.compose(overrides_for(family, "full", model_source), run_dir)
    exp = api.build(composed)
    assert all(p.requires_grad for p in exp.module.parameters())


def test_adapter_saved_reloaded_merged_and_predicts_the_same(tiny_llama, run_dir, tmp_path):
    """Train QLoRA on a Hugging Face LM: adapter/ holds peft safetensors and the tokenizer; a new run with
    tuning.adapter=... gives identical logits and generates; merge dequantizes, folds and matches."""
    hf = [
        *FAMILIES["hf_causal"],
        f"model.name_or_path={tiny_llama}",
        "extras.print_config=false",
        "logger=none",
        "trainer.max_epochs=1",
        "+trainer.limit_train_batches=6",
        "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=2",
    ]
    metrics = api.run([*hf, "tuning=qlora", "tuning.merge=true"], run_dir)
    adapter = run_dir / "adapter"
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= {p.name for p in adapter.iterdir()}
    assert json.loads((adapter / "adapter_config.json").read_text())["r"] == 16
    report = json.loads((run_dir / "merged" / "merge_check.json").read_text())
    assert report["max_relative_logit_difference"] <= report["tolerance"] == 5e-2
    assert metrics["merge/max_relative_logit_difference"] == report["max_relative_logit_difference"]
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert all("lora_" in k for k in checkpoint["state_dict"]), "frozen base weights stay out of checkpoints"

    from genlab.hf import load_causal_lm

    merged = load_causal_lm(str(run_dir / "merged"))
    assert not any("lora" in n for n, _ in merged.named_parameters())

    again = tmp_path / "again"
    again.mkdir()
    api.run(
        [
            *hf,
            "tuning=qlora",
            f"tuning.adapter={adapter}",
            "train=false",
            "test=false",
            "predict=true",
            "generation=text",
            "generation.max_new_tokens=5",
        ],
        again,
    )
    assert len((again / "generations.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize("family, tuning", [("ffn", "lora"), ("transformer_lm", "qlora"), ("hf_causal", "lora")])
def test_save_load_identical_outputs_and_merge(family, tuning, run_dir, tmp_path, model_source):
    from genlab.tuning.export import fixed_inputs

    overrides = overrides_for(family, tuning, model_source)
    api.run([*overrides, "tuning.merge=true"], run_dir)

    def logits(folder: Path, extra: list[str]) -> torch.Tensor:
        composed = api.compose([*overrides, *extra], folder)
        L.seed_everything(123)  # another seed: nothing may depend on a re-drawn init
        exp = api.build(composed)
        exp.module.eval()
        with torch.no_grad():
            return exp.module(*fixed_inputs(exp.datamodule))

    loaded = logits(tmp_path / "loaded", [f"tuning.adapter={run_dir / 'adapter'}"])
    fresh = logits(tmp_path / "fresh", [])
    assert not torch.allclose(loaded, fresh)
    # the same adapter, loaded twice, gives the same logits
    assert torch.equal(loaded, logits(tmp_path / "loaded2", [f"tuning.adapter={run_dir / 'adapter'}"]))
    report = json.loads((run_dir / "merged" / "merge_check.json").read_text())
    assert report["max_relative_logit_difference"] <= report["tolerance"]


@pytest.mark.subprocess
@pytest.mark.parametrize("tuning", ["lora", "qlora"])
def test_killed_adapter_run_resumes_without_wrapping_twice(tuning, tmp_path, tiny_llama):
    env = env_with_test_modules()
    common = [
        *FAMILIES["hf_causal"],
        f"model.name_or_path={tiny_llama}",
        f"tuning={tuning}",
        "trainer.max_epochs=3",
        "+trainer.limit_train_batches=5",
        "trainer.limit_val_batches=1",
        "test=false",
        "logger=[csv]",
        "extras.print_config=false",
        "task.scheduler.T_max=3",
    ]
    straight = run_cli([*common, "experiment_name=straight"], cwd=tmp_path, env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]
    marker = tmp_path / "killed.marker"
    killed_args = [
        *common,
        "experiment_name=killed",
        "+callbacks.kill._target_=killer.KillAtEpoch",
        "+callbacks.kill.epoch=1",
        f"+callbacks.kill.marker={marker}",
    ]
    assert run_cli(killed_args, cwd=tmp_path, env=env).returncode == -9
    resumed = run_cli([*killed_args, "resume=true"], cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    def last(task: str) -> dict:
        (folder,) = (tmp_path / "outputs" / task / "runs").iterdir()
        return torch.load(folder / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)

    expected, got = last("straight"), last("killed")
    assert got["global_step"] == expected["global_step"], resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert got["global_step"] == expected["global_step"] == 15
    assert list(got["state_dict"]) == list(expected["state_dict"])
    assert not any(k.count("base_model.model") > 1 or k.count("lora_A") > 1 for k in got["state_dict"]), "wrapped twice"
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
    for a, b in zip(expected["optimizer_states"][0]["state"].values(), got["optimizer_states"][0]["state"].values()):
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    assert got["lr_schedulers"] == expected["lr_schedulers"]


def test_checkpoint_refuses_another_base(run_dir, tmp_path):
    overrides = [o for o in overrides_for("ffn", "lora", {}) if "callbacks" not in o and "progress_bar" not in o]
    api.run(overrides, run_dir)
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ConfigError, match="frozen base weights differ"):
        api.run([*overrides, "seed=7", "train=false", f"ckpt_path={ckpt}"], other)


@pytest.mark.subprocess
def test_multirun_over_the_tuning_axis(tmp_path):
    result = run_cli(
        [
            "-m",
            "experiment=digits_ffn",
            "tuning=full,lora,qlora",
            "trainer.max_epochs=1",
            "logger=none",
            "extras.print_config=false",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = sorted((tmp_path / "outputs").rglob("metrics.json"))
    assert len(metrics) == 3 and all(json.loads(m.read_text())["test/acc"] > 0.3 for m in metrics)
    adapters = sorted((tmp_path / "outputs").rglob("adapter_config.json"))
    assert len(adapters) == 2  # lora and qlora


@pytest.mark.subprocess
@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            ["tuning=lora", "tuning.target_modules=[hidden,q_prj]"],
            "tuning.target_modules: ['q_prj'] not in FeedForward",
        ),
        (["tuning=lora", "tuning.r=0"], "tuning.r=0: out of range; it must be a whole number >= 1"),
        (["tuning=lora", "tuning.adapter=/nowhere"], "tuning.adapter=/nowhere: no adapter_config.json there"),
        (
            ["tuning=qlora", "trainer.accelerator=mps"],
            "tuning=qlora: bitsandbytes has no 4-bit backend for trainer.accelerator=mps",
        ),
        (["tuning=qlora", "tuning.compute_dtype=int8"], "tuning.compute_dtype='int8'"),
        (["tuning=full", "tuning.base_weights=/nowhere.ckpt"], "tuning.base_weights=/nowhere.ckpt: no such file"),
    ],
)
def test_clear_errors(overrides, message, tmp_path):
    result = run_cli(["model=ffn", "data=digits", "logger=none", *overrides], cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_lora_defaults_per_model():
    from genlab.nets import FeedForward, RecurrentNet, TransformerLM
    from genlab.tuning.targets import resolve_targets

    assert resolve_targets(FeedForward((1, 8, 8), 10), ["q_proj", "v_proj"], None).modules == ["hidden"]
    lstm = resolve_targets(RecurrentNet((1, 8, 8), 10, cell="lstm"), "default", None)
    assert lstm.parameters == ["rnn.weight_ih_l0", "rnn.weight_hh_l0"] and lstm.head == ["head"]
    lm = resolve_targets(TransformerLM(50), ["q_proj", "v_proj"], None)
    assert lm.modules == ["q_proj", "v_proj"] and lm.head == []  # the head is tied to the embedding
    assert "head" not in resolve_targets(FeedForward((1, 8, 8), 10), "all-linear", None).modules


@pytest.mark.parametrize(
    "method, config",
    [
        (["tuning.use_dora=true"], {"use_dora": True, "r": 8}),
        (["tuning.use_rslora=true"], {"use_rslora": True, "r": 8}),
        (["tuning.init_lora_weights=gaussian"], {"init_lora_weights": "gaussian", "r": 8}),
        # PiSSA and OLoRA start from the weights' decomposition: their adapter is saved as a plain one of rank 2r
        (["tuning.init_lora_weights=pissa"], {"init_lora_weights": True, "r": 16}),
        (["tuning.init_lora_weights=olora"], {"init_lora_weights": True, "r": 16}),
    ],
)
def test_adapter_methods_train_save_and_reload_onto_the_published_base(method, config, run_dir, tmp_path, model_source):
    """Each method trains its adapters on the tiny Llama; the saved adapter, loaded onto the model as published,
    gives the logits of the merged model (for PiSSA and OLoRA that needs the conversion: their base was changed)."""
    from genlab.hf import load_causal_lm
    from genlab.tuning.export import fixed_inputs

    overrides = [*overrides_for("hf_causal", "lora", model_source), "tuning.target_modules=all-linear", *method]
    metrics = api.run([*overrides, "tuning.merge=true"], run_dir)
    assert torch.isfinite(torch.tensor(metrics["test/loss"]))
    saved = json.loads((run_dir / "adapter" / "adapter_config.json").read_text())
    assert {key: saved[key] for key in config} == config

    exp = api.build(api.compose([*overrides, f"tuning.adapter={run_dir / 'adapter'}"], tmp_path / "loaded"))
    exp.module.eval()
    inputs = fixed_inputs(exp.datamodule)
    merged = load_causal_lm(str(run_dir / "merged")).eval()
    with torch.no_grad():
        loaded, folded = exp.module(*inputs), merged(input_ids=inputs[0]).logits
    assert torch.allclose(loaded, folded, atol=1e-4, rtol=1e-3), float((loaded - folded).abs().max())


def test_adapter_initialisations_a_4bit_base_cannot_take_are_refused():
    from genlab.tuning import QLoRA

    with pytest.raises(ConfigError, match="tuning.init_lora_weights=pissa: it rewrites the base weights"):
        QLoRA(init_lora_weights="pissa")
    with pytest.raises(ConfigError, match="tuning.init_lora_weights=eva: use true, false, gaussian"):
        QLoRA(init_lora_weights="eva")


@pytest.mark.parametrize("tuning", ["lora", "qlora"])
def test_an_adapter_checkpoint_of_a_tied_embedding_model_holds_only_what_trains(tuning, tiny_llama, run_dir, tmp_path):
    """The LM head tied to the token embedding (SmolLM2's) is frozen under both its names: neither is saved, and
    the run resumes from the checkpoint with the fingerprint check passing."""
    from transformers import AutoModelForCausalLM

    tied = tmp_path / "tied-llama"
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama))
    model.config.tie_word_embeddings = True
    model.tie_weights()
    model.save_pretrained(str(tied))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tied / name).write_bytes((tiny_llama / name).read_bytes())
    overrides = [o for o in overrides_for("hf_causal", tuning, {}) if "callbacks" not in o and "progress_bar" not in o]
    overrides = [*overrides, f"model.name_or_path={tied}", "test=false"]
    api.run(overrides, run_dir)
    module = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    saved = set(module["state_dict"])
    assert saved and all("lora_" in key for key in saved), sorted(saved)[:5]
    api.run(
        [*overrides, "train=false", "test=true", f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}"],
        tmp_path / "eval",
    )
