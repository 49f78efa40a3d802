"""Recognizers that say which of a few words a clip holds: to measure how intelligible generated speech is."""

from pathlib import Path

import numpy as np
import torch

from genlab.errors import ConfigError


class PocketSphinxWords:
    """CMU PocketSphinx's US-English acoustic model (PyPI ``pocketsphinx``, no download), its search restricted by
    a JSGF grammar to exactly one of ``words``: an ASR that genlab did not train."""

    def __init__(self, words: list[str], folder: Path):
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise ConfigError("the pocketsphinx recognizer needs 'pip install pocketsphinx'") from None
        folder.mkdir(parents=True, exist_ok=True)
        grammar = folder / "words.gram"
        grammar.write_text("#JSGF V1.0;\ngrammar words;\npublic <word> = " + " | ".join(words) + ";\n")
        self.words = list(words)
        self.decoder = Decoder(lm=None, jsgf=str(grammar), logfn="/dev/null")

    def __call__(self, wave: np.ndarray, sample_rate: int) -> int:
        """The index of the word heard, or -1 when the decoder settles on none."""
        if sample_rate != 16000:  # the acoustic model's rate
            import librosa

            wave = librosa.resample(np.asarray(wave, dtype=np.float32), orig_sr=sample_rate, target_sr=16000)
        # a quarter second of silence either side: the decoder's endpointing needs room around the word
        pad = np.zeros(4000, np.int16)
        pcm = np.concatenate([pad, (np.clip(wave, -1, 1) * 32767).astype(np.int16), pad])
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        text = hypothesis.hypstr.strip() if hypothesis else ""
        return self.words.index(text) if text in self.words else -1


class ClassifierWords:
    """A genlab classifier trained on the words' spectrograms (e.g. experiment=spoken_digits_cnn), applied to a
    clip the way its data module turns audio into input."""

    def __init__(self, module: torch.nn.Module, to_input):
        self.module = module.eval()
        self.to_input = to_input

    def __call__(self, wave: np.ndarray, sample_rate: int) -> int:
        with torch.no_grad():
            x = torch.from_numpy(np.asarray(self.to_input(wave, sample_rate), dtype=np.float32))[None]
            return int(self.module(x).argmax(dim=-1))
