import math

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric

from genlab.core.protocols import PretrainedLM
from genlab.generation.sampling import generate
from genlab.generation.settings import GenerationSettings
from genlab.nets.transformer import KeyValueCache
from genlab.nets.transformer_lm import TransformerLM
from genlab.tasks.optim import OptimizerFactory, SchedulerFactory
from genlab.tasks.staged import StagedTask

_STAGES = ("train", "val", "test")


class LanguageModeling(StagedTask):
    """Next-token prediction on packed blocks: loss and perplexity per epoch, and generation as a prediction step.

    The net is genlab's own (``net(input_ids, attention_mask) -> logits``) or a Hugging Face causal LM (its output's
    ``.logits``); generation uses the model's own ``generate`` when it has one, genlab's sampler otherwise.
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
    ):
        super().__init__()
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"], logger=False)
        self.net = net
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        for stage in _STAGES:
            setattr(self, f"{stage}_loss", MeanMetric())

    @property
    def is_pretrained_lm(self) -> bool:
        return isinstance(self.net, PretrainedLM)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        cache: KeyValueCache | None = None,
    ) -> torch.Tensor:
        if self.is_pretrained_lm:
            return self.net(input_ids=input_ids, attention_mask=attention_mask).logits
        if cache is not None:
            return self.net(input_ids, attention_mask, cache)
        return self.net(input_ids, attention_mask)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        inputs, targets = batch
        logits = self(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
        getattr(self, f"{stage}_loss").update(loss.detach(), weight=targets.numel())
        return loss

    def _log_epoch(self, stage: str) -> None:
        metric = getattr(self, f"{stage}_loss")
        loss = metric.compute()
        metric.reset()
        self.log(f"{stage}/loss", loss, prog_bar=True)
        self.log(f"{stage}/ppl", torch.exp(loss).clamp(max=math.exp(30)), prog_bar=stage != "train")

    def generate_ids(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        settings: GenerationSettings,
        eos_id: int | None,
        pad_id: int,
    ) -> torch.Tensor:
        """New tokens for each left-padded prompt, ``num_return_sequences`` rows per prompt, prompt by prompt.

        Seeded by ``settings.seed`` inside a forked RNG, so sampling during training leaves the run's RNG (and so
        its exact resume) untouched.
        """
        n = settings.num_return_sequences
        input_ids, attention_mask = input_ids.repeat_interleave(n, 0), attention_mask.repeat_interleave(n, 0)
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(settings.seed)
            if isinstance(self.net, PretrainedLM):
                length = input_ids.shape[1]
                out = self.net.generate(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    max_new_tokens=settings.new_tokens(int(attention_mask.sum(dim=1).max())),
                    do_sample=settings.do_sample,
                    temperature=settings.temperature if settings.do_sample else None,
                    top_k=settings.top_k if settings.do_sample else None,
                    top_p=settings.top_p if settings.do_sample else None,
                    no_repeat_ngram_size=settings.no_repeat_ngram_size or None,
                    pad_token_id=pad_id,
                    eos_token_id=eos_id,
                    use_cache=settings.use_cache,
                )
                return out[:, length:]
            generator = torch.Generator(device=self.device).manual_seed(settings.seed)
            # genlab's TransformerLM has a longest context and keeps a cache; another own net is given the whole
            # sequence at every step
            own_lm = self.net if isinstance(self.net, TransformerLM) else None
            max_context = own_lm.max_len if own_lm else input_ids.shape[1] + settings.max_new_tokens
            cached = own_lm is not None and settings.use_cache
            return generate(self, input_ids, attention_mask, settings, eos_id, pad_id, max_context, generator, cached)

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        settings: GenerationSettings = batch["settings"]
        tokens = self.generate_ids(
            batch["input_ids"], batch["attention_mask"], settings, batch["eos_id"], batch["pad_id"]
        )
        return {"index": batch["index"].repeat_interleave(settings.num_return_sequences), "tokens": tokens}
