"""bf16 autocast on CPU and torch.compile on every model family: they train, and compute what fp32/eager does."""

import logging

import lightning as L
import pytest
import torch
from test_tuning import FAMILIES, batch_loss, overrides_for
from torch import nn

from genlab import api
from genlab.core import speed
from genlab.errors import ConfigError
from genlab.integrations.lightning_precision import BF16MixedPrecision


@pytest.mark.parametrize("family", list(FAMILIES))
def test_bf16_mixed_trains_every_family_on_cpu(family, run_dir, model_source, caplog):
    """With gradient clipping and the tasks' fused optimizers, which Lightning's own bf16 plugin refuses. On a CPU
    without native bf16 the run says its matrix products are emulated."""
    bf16 = ["trainer=cpu", "trainer.precision=bf16-mixed", "trainer.gradient_clip_val=1.0"]
    composed = api.compose([*overrides_for(family, "full", model_source), *bf16], run_dir)
    L.seed_everything(0)
    if family == "rnn" and speed.native_bf16("cpu") is None:  # the rnn family's cell here is an LSTM
        with pytest.raises(ConfigError, match=r"^trainer.precision=bf16-mixed: this CPU has no native bf16 .* LSTM"):
            api.build(composed)
        return
    with caplog.at_level(logging.WARNING, logger="genlab"):
        exp = api.build(composed)
    emulated = "this CPU has no native bf16 (AVX512-BF16 or AMX), so bf16 matrix products are emulated"
    assert (emulated in caplog.text) == (speed.native_bf16("cpu") is None)
    assert isinstance(exp.trainer.precision_plugin, BF16MixedPrecision)
    exp.datamodule.setup("fit")
    batch = next(iter(exp.datamodule.train_dataloader()))
    loss_before = batch_loss(exp.module, batch)
    dtypes: set[torch.dtype] = set()
    layer = next(m for m in exp.module.net.modules() if type(m) in (nn.Linear, nn.Conv2d) and m.weight.requires_grad)
    layer.register_forward_hook(lambda m, i, out: dtypes.add(out.dtype) if m.training else None)

    exp.trainer.fit(exp.module, datamodule=exp.datamodule)

    assert dtypes == {torch.bfloat16}, dtypes  # the layers computed under autocast...
    assert all(p.dtype == torch.float32 for p in exp.module.parameters())  # ...on fp32 weights
    assert batch_loss(exp.module, batch) < loss_before


def test_precision_auto_follows_what_the_cpu_computes_natively(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="genlab")
    assert speed.resolve_precision("16-mixed", "cpu") == "16-mixed"  # the user's choice passes through
    with_bf16 = {**torch.cpu.get_capabilities(), "avx512_bf16": True}
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: with_bf16)
    assert speed.resolve_precision("auto", "cpu") == "bf16-mixed"
    assert "bf16-mixed (bf16 is native on this CPU's AVX512-BF16)" in caplog.text
    without = {**with_bf16, "avx512_bf16": False, "amx_bf16": False}
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: without)
    assert speed.resolve_precision("auto", "cpu") == "32-true"
    assert "32-true (no native bf16 on this CPU)" in caplog.text


# compiling takes 10-30 s a family on 2 cores: two in the default suite, one of them 4-bit, the rest with -m slow
COMPILED = [
    ("ffn", "qlora"),
    ("transformer_lm", "full"),
    *(
        pytest.param(f, "lora" if f == "hf_causal" else "full", marks=pytest.mark.slow)
        for f in FAMILIES
        if f != "transformer_lm"
    ),
]


@pytest.mark.parametrize("family, tuning", COMPILED)
def test_a_compiled_net_computes_what_the_eager_one_does_and_trains(family, tuning, run_dir, model_source):
    overrides = overrides_for(family, tuning, model_source)
    composed = api.compose([*overrides, "compile=true", "trainer.max_epochs=1"], run_dir)
    L.seed_everything(0)
    exp = api.build(composed)
    net = exp.module.net
    assert net._compiled_call_impl is not None
    keys = list(exp.module.state_dict())
    exp.datamodule.setup("fit")
    batch = next(iter(exp.datamodule.train_dataloader()))
    exp.module.eval()
    with torch.no_grad():
        compiled_loss = float(exp.module._step(batch, "test"))
        net._compiled_call_impl, saved = None, net._compiled_call_impl
        eager_loss = float(exp.module._step(batch, "test"))
        net._compiled_call_impl = saved
    exp.module.train()
    assert compiled_loss == pytest.approx(eager_loss, rel=1e-4)

    exp.trainer.fit(exp.module, datamodule=exp.datamodule)

    assert list(exp.module.state_dict()) == keys  # checkpoints of a compiled run load into an eager one
    assert batch_loss(exp.module, batch) < compiled_loss


class TaskWithoutNet(L.LightningModule):
    """A user's task that keeps its network under another name than ``net``."""

    def __init__(self, net: nn.Module, **unused: object):
        super().__init__()
        self.model = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def test_compile_on_a_task_without_a_net_is_refused_in_one_line(run_dir):
    from genlab.errors import ConfigError

    overrides = ["model=ffn", "data=digits", "compile=true", "task._target_=test_speed.TaskWithoutNet", "logger=none"]
    with pytest.raises(ConfigError, match=r"^task: TaskWithoutNet does not provide net, which compile=true needs$"):
        api.build(api.compose(overrides, run_dir))
