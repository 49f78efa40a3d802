from dataclasses import dataclass, field
from pathlib import Path

from genlab.errors import ConfigError


@dataclass
class GenerationSettings:
    """What to generate from (prompts) and how (the sampling knobs of Hugging Face's ``generate``)."""

    prompts: list[str] = field(default_factory=list)
    prompts_file: str | None = None
    max_new_tokens: int = 64
    max_length: int | None = None
    num_return_sequences: int = 1
    do_sample: bool = True
    temperature: float = 0.8
    top_k: int | None = 50
    top_p: float | None = 0.95
    no_repeat_ngram_size: int = 0
    seed: int = 0
    batch_size: int = 8
    every_n_epochs: int = 1
    # keep each layer's keys and values so a new token costs one position's work (false: recompute the sequence)
    use_cache: bool = True
    # prompts as a user's turn, rendered with the tokenizer's chat template; the reply without the template
    chat: bool = False

    def __post_init__(self):
        if self.temperature <= 0:
            raise ConfigError(
                f"generation.temperature={self.temperature}: must be > 0 (use do_sample=false for greedy)"
            )
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError(f"generation.top_p={self.top_p}: must be in (0, 1]")

    def all_prompts(self) -> list[str]:
        """The configured prompts, then one per non-empty line of prompts_file."""
        prompts = list(self.prompts)
        if self.prompts_file:
            path = Path(self.prompts_file)
            if not path.is_file():
                raise ConfigError(f"generation.prompts_file={path}: no such file")
            prompts += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not prompts:
            raise ConfigError(
                "no prompts: set generation.prompts=[...] or generation.prompts_file=<one prompt per line>"
            )
        return prompts

    def new_tokens(self, prompt_length: int) -> int:
        """max_length (prompt + new tokens, as transformers' generate counts it) wins over max_new_tokens when set."""
        if self.max_length is not None:
            return max(0, self.max_length - prompt_length)
        return self.max_new_tokens
