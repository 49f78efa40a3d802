"""Pretrained Hugging Face models, tokenizers, diffusers pipelines and MusicGen from a hub id, a local folder or a GGUF file
(imported lazily)."""

from genlab.hf.diffusion import load_stable_diffusion, load_text_to_video
from genlab.hf.loading import load_causal_lm, load_sequence_classifier, load_tokenizer
from genlab.hf.musicgen import MusicGen, load_musicgen

__all__ = [
    "MusicGen",
    "load_causal_lm",
    "load_musicgen",
    "load_sequence_classifier",
    "load_stable_diffusion",
    "load_text_to_video",
    "load_tokenizer",
]
