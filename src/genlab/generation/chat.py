"""Prompts as the user's turn of a chat (``generation.chat=true``): rendered with the tokenizer's chat template
and its generation prompt, and the reply cut where the template closes the assistant's turn."""

from typing import Any

from genlab.errors import ConfigError

# a reply the template is asked to render, to find what follows a reply (its end-of-turn marker)
_REPLY = "GENLABREPLYMARKER"


def chat_prompt(tokenizer: Any, prompt: str) -> str:
    """``prompt`` as a user turn, followed by what opens the assistant's reply."""
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            f"generation.chat=true: the tokenizer of {getattr(tokenizer, 'name_or_path', 'the model')} has no chat "
            f"template; train with data=chat_files data.chat_template=chatml, or use a model that has one"
        )
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )


def replies_of(tokenizer: Any, texts: list[str]) -> list[str]:
    """The generated texts up to the template's end of the assistant's turn (it may not be a special token)."""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "?"}, {"role": "assistant", "content": _REPLY}], tokenize=False
    )
    end = rendered.split(_REPLY, 1)[1].strip() if _REPLY in rendered else ""
    return [text.split(end, 1)[0] for text in texts] if end else texts
