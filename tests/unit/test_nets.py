import pytest
import torch

from genlab.nets import ConvNet, FeedForward, RecurrentNet, TransformerBlock, TransformerClassifier
from genlab.nets.sequence import image_to_sequence, sequence_feature_size


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8)])
@pytest.mark.parametrize(
    "make",
    [
        lambda s: FeedForward(s, 10),
        lambda s: ConvNet(s, 10),
        lambda s: RecurrentNet(s, 10, cell="gru"),
        lambda s: TransformerClassifier(s, 10, patch_size=4),
        lambda s: TransformerClassifier(s, 10, patch_size=None),
    ],
)
def test_every_net_maps_images_to_class_logits(make, shape):
    assert make(shape)(torch.randn(3, *shape)).shape == (3, 10)


def test_seed_shapes():
    ffn = FeedForward((1, 28, 28), 10)
    assert (ffn.hidden.in_features, ffn.hidden.out_features, ffn.head.out_features) == (784, 128, 10)
    cnn = ConvNet((3, 32, 32), 10)
    assert cnn.classifier[1].in_features == 128 * 4 * 4  # fc1 of the classic 3-block CNN
    assert ConvNet((1, 28, 28), 10).classifier[1].in_features == 128 * 3 * 3
    assert isinstance(RecurrentNet((1, 28, 28), 10).rnn, torch.nn.RNN)
    assert isinstance(RecurrentNet((1, 28, 28), 10, cell="lstm").rnn, torch.nn.LSTM)


def test_patches_and_rows_keep_every_pixel_once():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    for patch in (None, 2, 4):
        seq = image_to_sequence(x, patch)
        assert seq.shape[:2] == (2, sequence_feature_size((3, 8, 8), patch)[0])
        assert torch.equal(seq.flatten(1).sort().values, x.flatten(1).sort().values)
    # the first patch holds the top-left 2×2 corner of every channel
    assert torch.equal(image_to_sequence(x, 2)[0, 0], x[0, :, :2, :2].reshape(-1))


def test_transformer_block_keeps_shape_and_attends():
    block = TransformerBlock(embed_dim=16, num_heads=4, ff_dim=32, dropout=0.0).eval()
    x = torch.randn(2, 5, 16)
    y = block(x)
    assert y.shape == x.shape
    changed = x.clone()
    changed[:, -1] += 1.0
    assert not torch.allclose(block(changed)[:, 0], y[:, 0])  # the first position sees the last


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: TransformerClassifier((1, 28, 28), 10, patch_size=5), "patch_size=5 does not divide a 28×28 image"),
        (lambda: TransformerClassifier((1, 28, 28), 10, embed_dim=30, num_heads=4), "not divisible by num_heads"),
        (lambda: ConvNet((1, 4, 4), 10), "shrink a 4×4 image to nothing"),
        (lambda: RecurrentNet((1, 28, 28), 10, cell="transformer"), "cell='transformer' is not one of"),
    ],
)
def test_impossible_shapes_are_refused_with_the_reason(make, message):
    with pytest.raises(ValueError, match=message):
        make()
