"""scripts/lm_vs_unigram.py: the model's and the unigram's perplexity on exactly the same tokens."""

import subprocess
import sys

from genlab import api
from helpers import REPO

LM = ["experiment=fortunes_lm", "data.files=[science]", "data.block_size=32", "data.tokenizer.vocab_size=300"]
SMALL = ["model.embed_dim=32", "model.num_layers=1", "logger=none", "extras.print_config=false"]


def test_both_perplexities_are_over_every_target_token_of_each_split(run_dir):
    api.run([*LM, *SMALL, "trainer.max_epochs=1", "+trainer.limit_train_batches=3"], run_dir)
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "lm_vs_unigram.py"), str(run_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()[1:3]}
    data = api.load_run_data(run_dir)
    data.setup("fit")
    for split in ("val", "test"):
        tokens, unigram, model, _, recorded = rows[split]
        assert int(tokens.replace(",", "")) == data.blocks[split][:, 1:].numel()
        assert float(unigram) == round(data.unigram_perplexity(split), 1)
        # the run evaluated every block of the split (no limit_*_batches): the same figure as the run's own
        assert abs(float(model) - float(recorded)) <= 0.1 + 1e-3 * float(recorded)
    assert "Both on the same tokens" in out.stdout
