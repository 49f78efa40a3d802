"""Generation: sampling settings, the sampler for genlab's own LMs, and writers of what was generated."""

from genlab.generation.samples_callback import GenerationSamples
from genlab.generation.settings import GenerationSettings

__all__ = ["GenerationSamples", "GenerationSettings"]
