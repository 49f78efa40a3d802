"""The losses of preference tuning, on the log-probabilities of the chosen and rejected replies.

``dpo`` (Rafailov et al. 2023) and ``ipo`` (Azar et al. 2023) compare the policy with a reference model; ``simpo``
(Meng et al. 2024) and ``orpo`` (Hong et al. 2024) need none. Each matches TRL's implementation (DPOTrainer's
``sigmoid`` and ``ipo`` loss types, CPOTrainer's ``simpo``, ORPOTrainer), checked on the same inputs by
tests/integration/test_preference.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

LOSSES = ("dpo", "ipo", "simpo", "orpo")
NEEDS_REFERENCE = frozenset({"dpo", "ipo"})


@dataclass(frozen=True)
class SequenceLogps:
    """Per sequence: the summed log-probability of the reply's tokens and how many tokens it has."""

    total: torch.Tensor
    tokens: torch.Tensor

    @property
    def mean(self) -> torch.Tensor:
        return self.total / self.tokens.clamp(min=1)


@dataclass(frozen=True)
class PreferenceLoss:
    """The loss of a batch of pairs and, per pair, the implicit rewards of both replies (what is logged)."""

    loss: torch.Tensor
    chosen_rewards: torch.Tensor
    rejected_rewards: torch.Tensor


def sequence_logps(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100) -> SequenceLogps:
    """Log-probabilities of each row's labelled tokens (the label of position t is predicted at t - 1)."""
    # at least float32: half-precision log-softmax over a vocabulary loses the small differences preference learns from
    logits, labels = logits[:, :-1].to(torch.promote_types(logits.dtype, torch.float32)), labels[:, 1:]
    trained = labels != ignore_index
    picked = torch.gather(logits.log_softmax(-1), 2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return SequenceLogps((picked * trained).sum(-1), trained.sum(-1))


def preference_loss(
    kind: str,
    chosen: SequenceLogps,
    rejected: SequenceLogps,
    reference_chosen: SequenceLogps | None = None,
    reference_rejected: SequenceLogps | None = None,
    beta: float = 0.1,
    simpo_gamma: float = 0.5,
    chosen_nll: torch.Tensor | None = None,
) -> PreferenceLoss:
    """The ``kind`` loss (one of LOSSES), averaged over pairs.

    ``beta``: DPO's and SimPO's inverse temperature, IPO's regularisation τ, ORPO's weight λ of the odds-ratio term.
    ``simpo_gamma``: SimPO's target reward margin. ``chosen_nll``: ORPO's supervised term, the mean negative
    log-likelihood of the chosen replies' tokens.
    """
    if kind in NEEDS_REFERENCE:
        if reference_chosen is None or reference_rejected is None:
            raise ValueError(f"the {kind} loss compares with a reference model: give its log-probabilities")
        chosen_ratio = chosen.total - reference_chosen.total
        rejected_ratio = rejected.total - reference_rejected.total
        if kind == "dpo":
            losses = -F.logsigmoid(beta * (chosen_ratio - rejected_ratio))
        else:
            # the log-ratios per token, as TRL (and IPO's authors) do, so that τ does not depend on reply length
            margin = chosen_ratio / chosen.tokens.clamp(min=1) - rejected_ratio / rejected.tokens.clamp(min=1)
            losses = (margin - 1 / (2 * beta)) ** 2
        return PreferenceLoss(losses.mean(), beta * chosen_ratio.detach(), beta * rejected_ratio.detach())
    if kind == "simpo":
        losses = -F.logsigmoid(beta * (chosen.mean - rejected.mean) - simpo_gamma)
    elif kind == "orpo":
        if chosen_nll is None:
            raise ValueError("the orpo loss adds the chosen replies' negative log-likelihood: give chosen_nll")
        # log odds(y) = log p - log(1 - p), with p the reply's mean per-token probability
        log_odds = (chosen.mean - rejected.mean) - (_log1mexp(chosen.mean) - _log1mexp(rejected.mean))
        losses = chosen_nll - beta * F.logsigmoid(log_odds)
    else:
        raise ValueError(f"unknown preference loss {kind!r}; one of {', '.join(LOSSES)}")
    return PreferenceLoss(losses.mean(), beta * chosen.mean.detach(), beta * rejected.mean.detach())


def _log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(x)) for x < 0, accurate near 0 and far from it."""
    return torch.where(x > -0.6931471805599453, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))
