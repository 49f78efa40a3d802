import torch

from genlab.generation.audio_settings import AudioGenerationSettings, check_duration
from genlab.generation.requests import GenerationRequest
from genlab.tasks.pretrained import PretrainedGenerator

DEFAULT_SECONDS = 5.0


class TextToAudio(PretrainedGenerator):
    """Generation with a pretrained text-to-audio model (``net``: ``genlab.hf.MusicGen``) as prediction steps."""

    @property
    def sample_rate(self) -> int:
        return self.net.sample_rate

    @torch.no_grad()
    def generate(self, requests: list[GenerationRequest], settings: AudioGenerationSettings) -> torch.Tensor:
        """[len(requests), samples] float waveforms, ``duration_seconds`` long. One request at a time, each after
        seeding torch with its seed: sampled tokens then do not depend on the batch they were drawn in."""
        seconds = settings.duration_seconds or DEFAULT_SECONDS
        check_duration(
            seconds,
            self.net.max_seconds,
            "this MusicGen",
            f"decoder max_position_embeddings={self.net.model.config.decoder.max_position_embeddings} "
            f"at {self.net.frame_rate:g} frames/s",
        )
        length = round(seconds * self.sample_rate)
        model, processor = self.net.model, self.net.processor
        waves = []
        for request in requests:
            inputs = processor(text=[request.prompt], padding=True, return_tensors="pt").to(self.device)
            torch.manual_seed(request.seed)
            audio = model.generate(
                **inputs,
                max_new_tokens=self.net.max_new_tokens(seconds),
                do_sample=settings.do_sample,
                temperature=settings.temperature,
                top_k=settings.top_k or None,
                top_p=settings.top_p or None,
                guidance_scale=settings.guidance_scale if settings.guidance_scale != 1 else None,
            )
            wave = audio[0].float().mean(dim=0)[:length]  # mono (stereo models average their channels)
            waves.append(torch.nn.functional.pad(wave, (0, length - len(wave))))
        return torch.stack(waves)

    def predict_step(self, batch: dict, batch_idx: int) -> dict:
        audio = self.generate(batch["requests"], batch["settings"]).cpu()
        return {"requests": batch["requests"], "audio": audio, "sample_rate": self.sample_rate}
