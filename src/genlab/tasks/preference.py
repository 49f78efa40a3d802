import copy
import logging
from typing import Any

import torch
from torch import nn
from torchmetrics import MeanMetric

from genlab.core.protocols import AdapterModel, PretrainedLM
from genlab.errors import ConfigError
from genlab.tasks.language_modeling import LanguageModeling
from genlab.tasks.optim import OptimizerFactory, SchedulerFactory
from genlab.tasks.preference_losses import LOSSES, NEEDS_REFERENCE, SequenceLogps, preference_loss, sequence_logps

log = logging.getLogger("genlab")

_STAGES = ("train", "val", "test")
# logged per stage and epoch, beside the loss
_METRICS = (
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margin",
    "rewards/accuracy",
    "logps/chosen",
    "logps/rejected",
)


class PreferenceTuning(LanguageModeling):
    """Preference tuning of a causal LM on pairs of replies (``task=preference``, data=preference_files): the
    ``loss`` (dpo, ipo, simpo, orpo; genlab.tasks.preference_losses) raises the chosen reply over the rejected one.

    DPO and IPO compare with a reference model, the one training starts from. With adapters (tuning=lora|qlora)
    that starts as the identity, the reference is the same model with its adapter switched off, so it costs no
    memory; otherwise (full tuning, an adapter loaded to train on, PiSSA/OLoRA) it is a frozen copy of the starting
    model. Logged per epoch: the implicit rewards of both replies (β × the log-ratio with the reference for DPO and
    IPO, β × the mean log-probability for SimPO and ORPO), their margin, the share of pairs whose chosen reply
    has the higher reward (reward accuracy), and the log-probabilities.
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        scheduler_interval: str = "epoch",
        loss: str = "dpo",
        beta: float = 0.1,
        simpo_gamma: float = 0.5,
    ):
        super().__init__(net, optimizer, scheduler, scheduler_interval)
        if loss not in LOSSES:
            raise ConfigError(f"task.loss={loss}: not a preference loss; use one of {', '.join(LOSSES)}")
        if not isinstance(net, PretrainedLM):
            raise ConfigError(
                f"task=preference tunes a causal LM that generates text; {type(net).__name__} is not one: use "
                f"model=hf_causal"
            )
        if beta <= 0:
            raise ConfigError(f"task.beta={beta}: must be above 0")
        self.loss_kind, self.beta, self.simpo_gamma = loss, beta, simpo_gamma
        self.reference: nn.Module | None = None
        if loss in NEEDS_REFERENCE and not _adapter_starts_as_identity(net):
            log.info(f"task.loss={loss}: the reference model is a frozen copy of the starting model")
            self.reference = copy.deepcopy(net).requires_grad_(False).eval()
        for stage in _STAGES:
            for name in _METRICS:
                setattr(self, _metric_attr(stage, name), MeanMetric())

    def train(self, mode: bool = True) -> "PreferenceTuning":
        super().train(mode)
        if self.reference is not None:
            self.reference.eval()  # no dropout in the reference: its log-probabilities are fixed targets
        return self

    def _logps(self, model: nn.Module, input_ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> Any:
        return sequence_logps(model(input_ids=input_ids, attention_mask=mask).logits, labels)

    def reference_logps(self, input_ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> SequenceLogps:
        with torch.no_grad():
            if self.reference is not None:
                return self._logps(self.reference, input_ids, mask, labels)
            assert isinstance(self.net, AdapterModel)
            with self.net.disable_adapter():
                return self._logps(self.net, input_ids, mask, labels)

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        input_ids, attention_mask, labels = batch
        pairs = input_ids.shape[0] // 2  # the chosen sequences, then the rejected ones
        logps = self._logps(self.net, input_ids, attention_mask, labels)
        chosen, rejected = _halves(logps, pairs)
        reference_chosen = reference_rejected = None
        if self.loss_kind in NEEDS_REFERENCE:
            reference_chosen, reference_rejected = _halves(
                self.reference_logps(input_ids, attention_mask, labels), pairs
            )
        result = preference_loss(
            self.loss_kind,
            chosen,
            rejected,
            reference_chosen,
            reference_rejected,
            beta=self.beta,
            simpo_gamma=self.simpo_gamma,
            chosen_nll=-chosen.total.sum() / chosen.tokens.sum().clamp(min=1),
        )
        getattr(self, f"{stage}_loss").update(result.loss.detach(), weight=pairs)
        values = {
            "rewards/chosen": result.chosen_rewards,
            "rewards/rejected": result.rejected_rewards,
            "rewards/margin": result.chosen_rewards - result.rejected_rewards,
            "rewards/accuracy": (result.chosen_rewards > result.rejected_rewards).float(),
            "logps/chosen": chosen.total.detach(),
            "logps/rejected": rejected.total.detach(),
        }
        for name, value in values.items():
            getattr(self, _metric_attr(stage, name)).update(value)
        return result.loss

    def _log_epoch(self, stage: str) -> None:
        metric = getattr(self, f"{stage}_loss")
        self.log(f"{stage}/loss", metric.compute(), prog_bar=True)
        metric.reset()
        for name in _METRICS:
            metric = getattr(self, _metric_attr(stage, name))
            self.log(f"{stage}/{name}", metric.compute(), prog_bar=name == "rewards/accuracy" and stage != "train")
            metric.reset()


def _metric_attr(stage: str, name: str) -> str:
    return f"{stage}_{name.replace('/', '_')}"


def _halves(logps: SequenceLogps, pairs: int) -> tuple[SequenceLogps, SequenceLogps]:
    return (
        SequenceLogps(logps.total[:pairs], logps.tokens[:pairs]),
        SequenceLogps(logps.total[pairs:], logps.tokens[pairs:]),
    )


def _adapter_starts_as_identity(net: nn.Module) -> bool:
    """Whether ``net`` has adapters that change nothing yet (LoRA's B matrices are zero when freshly made), so that
    switching them off gives the model training starts from."""
    if not isinstance(net, AdapterModel):
        return False
    up = [p for name, p in net.named_parameters() if "lora_B" in name]
    return bool(up) and all(not p.any() for p in up)
