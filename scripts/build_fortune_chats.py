"""The conversations experiment=smollm2_chat_sft trains on: the question-and-answer fortunes (``Q: ... A: ...``, one
or more exchanges) of the fortunes packages, as {role, content} messages.

    python scripts/build_fortune_chats.py [--root /usr/share/games/fortunes]

writes src/genlab/data/builtin/fortune_chats.jsonl (shipped with genlab, so the recipe runs without the packages).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from genlab.data.text_corpora import read_fortunes

OUT = Path(__file__).resolve().parents[1] / "src" / "genlab" / "data" / "builtin" / "fortune_chats.jsonl"
_TURN = re.compile(r"^(Q|A):\s*", re.MULTILINE)


def conversation(fortune: str) -> list[dict[str, str]] | None:
    """The fortune's exchanges, when it is questions and answers only (starting with a question)."""
    if not fortune.startswith("Q:"):
        return None
    parts = _TURN.split(fortune)[1:]  # [Q, text, A, text, ...]
    turns = []
    for mark, text in zip(parts[::2], parts[1::2]):
        content = " ".join(text.split())
        if not content:
            return None
        turns.append({"role": "user" if mark == "Q" else "assistant", "content": content})
    alternate = all(t["role"] == ("user" if i % 2 == 0 else "assistant") for i, t in enumerate(turns))
    return turns if alternate and len(turns) >= 2 and turns[-1]["role"] == "assistant" else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/usr/share/games/fortunes")
    args = parser.parse_args()
    seen, rows = set(), []
    for fortune in read_fortunes(args.root):
        turns = conversation(fortune)
        key = json.dumps(turns)
        if turns and key not in seen:  # the same fortune is in several files
            seen.add(key)
            rows.append(key)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(f'{{"messages": {row}}}\n' for row in rows))
    print(f"{len(rows)} conversations -> {OUT}")


if __name__ == "__main__":
    main()
