import torch
import torch.nn.functional as F

from genlab.data.chat import IGNORE, PackedBatch
from genlab.tasks.language_modeling import LanguageModeling


class ChatFineTuning(LanguageModeling):
    """Supervised fine-tuning on conversations (``task=chat_sft``): next-token loss on the tokens whose label is
    set (the assistant's turns, genlab.data.chat), averaged over them; perplexity and generation as for language
    modeling."""

    def _step(self, batch: tuple[torch.Tensor, ...], stage: str) -> torch.Tensor:
        if isinstance(batch, PackedBatch):
            # no attention mask: transformers then reads the conversations' boundaries from the position ids
            # (a cache would stop it: none in training)
            logits = self.net(input_ids=batch.input_ids, position_ids=batch.position_ids, use_cache=False).logits
            labels = batch.labels
        else:
            input_ids, attention_mask, labels = batch
            logits = self(input_ids, attention_mask)
        logits, targets = logits[:, :-1], labels[:, 1:]
        trained = int((targets != IGNORE).sum())
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=IGNORE)
        getattr(self, f"{stage}_loss").update(loss.detach(), weight=max(trained, 1))
        return loss
