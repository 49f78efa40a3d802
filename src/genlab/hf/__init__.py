"""Pretrained Hugging Face models and tokenizers from a hub id, a local folder or a GGUF file (imported lazily)."""

from genlab.hf.loading import load_causal_lm, load_sequence_classifier, load_tokenizer

__all__ = ["load_causal_lm", "load_sequence_classifier", "load_tokenizer"]
