import numpy as np
import torch

from genlab.nets.numpy_neuron import Neuron, NumpyMLP, sigmoid, train_on_digits


def test_neuron_is_a_sigmoid_of_a_weighted_sum():
    neuron = Neuron(3, np.random.default_rng(0))
    x = np.array([[0.5, -1.0, 2.0]])
    assert np.allclose(neuron.forward(x), sigmoid(x @ neuron.weights + neuron.bias))
    assert 0 < neuron.forward(x)[0] < 1


def test_manual_backprop_matches_autograd():
    rng = np.random.default_rng(1)
    mlp = NumpyMLP([7, 5, 4, 3], seed=2)
    x, y = rng.standard_normal((6, 7)), rng.integers(0, 3, 6)
    logits, activations = mlp.forward(x)
    loss, grad_logits = mlp.loss(logits, y)
    grads_w, grads_b = mlp.backward(grad_logits, activations)

    weights = [torch.tensor(w, requires_grad=True) for w in mlp.weights]
    biases = [torch.tensor(b, requires_grad=True) for b in mlp.biases]
    h = torch.tensor(x)
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w + b
        if i < len(weights) - 1:
            h = torch.relu(h)
    torch_loss = torch.nn.functional.cross_entropy(h, torch.tensor(y))
    torch_loss.backward()
    assert np.isclose(loss, torch_loss.item())
    for mine, theirs in zip(grads_w + grads_b, weights + biases):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_numpy_mlp_learns_digits():
    assert train_on_digits(epochs=15, verbose=False) >= 0.93
