"""Pretrained Hugging Face models, tokenizers and diffusers pipelines from a hub id, a local folder or a GGUF file
(imported lazily)."""

from genlab.hf.diffusion import load_stable_diffusion
from genlab.hf.loading import load_causal_lm, load_sequence_classifier, load_tokenizer

__all__ = ["load_causal_lm", "load_sequence_classifier", "load_stable_diffusion", "load_tokenizer"]
