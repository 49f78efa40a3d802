"""The learning process from scratch, in NumPy: a sigmoid neuron and a small MLP with hand-written backpropagation.

Forward propagation, a loss, backward propagation and a gradient step, with nothing hidden. Run it as a demo:

    python -m genlab.nets.numpy_neuron            # trains on scikit-learn's digits and prints the progress
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class Neuron:
    """One artificial neuron: a weighted sum of the inputs plus a bias, through a sigmoid."""

    def __init__(self, input_size: int, rng: np.random.Generator | None = None):
        rng = rng or np.random.default_rng()
        self.weights = rng.standard_normal(input_size)
        self.bias = float(rng.standard_normal())

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        return sigmoid(inputs @ self.weights + self.bias)


class NumpyMLP:
    """input → dense → ReLU → … → dense → softmax, trained with cross-entropy and plain gradient descent."""

    def __init__(self, sizes: list[int], seed: int = 0):
        rng = np.random.default_rng(seed)
        # He initialization keeps ReLU activations from shrinking or blowing up layer after layer.
        self.weights = [rng.standard_normal((i, o)) * np.sqrt(2.0 / i) for i, o in itertools.pairwise(sizes)]
        self.biases = [np.zeros(o) for o in sizes[1:]]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Logits, and each layer's input (kept for the backward pass)."""
        activations = [x]
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = activations[-1] @ w + b
            if i == len(self.weights) - 1:
                return z, activations
            activations.append(np.maximum(z, 0.0))
        raise AssertionError("unreachable")

    @staticmethod
    def loss(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean cross-entropy and its gradient with respect to the logits."""
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        n = len(targets)
        loss = -np.log(probs[np.arange(n), targets] + 1e-12).mean()
        grad = probs
        grad[np.arange(n), targets] -= 1.0
        return float(loss), grad / n

    def backward(
        self, grad_logits: np.ndarray, activations: list[np.ndarray]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradients of the loss for every weight and bias, by the chain rule from the output back."""
        grads_w: list[np.ndarray] = []
        grads_b: list[np.ndarray] = []
        grad = grad_logits
        for i in reversed(range(len(self.weights))):
            grads_w.insert(0, activations[i].T @ grad)
            grads_b.insert(0, grad.sum(axis=0))
            if i > 0:
                grad = (grad @ self.weights[i].T) * (activations[i] > 0)
        return grads_w, grads_b

    def step(self, grads_w: list, grads_b: list, lr: float) -> None:
        for w, b, gw, gb in zip(self.weights, self.biases, grads_w, grads_b):
            w -= lr * gw
            b -= lr * gb

    def train_batch(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        logits, activations = self.forward(x)
        loss, grad = self.loss(logits, y)
        self.step(*self.backward(grad, activations), lr)
        return loss

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[0].argmax(axis=1)


def train_on_digits(
    epochs: int = 30, hidden: int = 64, lr: float = 0.1, batch_size: int = 32, seed: int = 0, verbose: bool = True
) -> float:
    """Train a NumpyMLP on scikit-learn's digits; returns test accuracy."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.25, random_state=seed, stratify=digits.target
    )
    model = NumpyMLP([x.shape[1], hidden, 10], seed=seed)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        losses = [
            model.train_batch(x_train[idx], y_train[idx], lr) for idx in np.array_split(order, len(order) // batch_size)
        ]
        if verbose and (epoch % 5 == 4 or epoch == 0):
            accuracy = (model.predict(x_test) == y_test).mean()
            print(f"epoch {epoch + 1:3d}  loss {np.mean(losses):.4f}  test accuracy {accuracy:.3f}")
    return float((model.predict(x_test) == y_test).mean())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"final test accuracy: {train_on_digits(args.epochs, args.hidden, args.lr, seed=args.seed):.3f}")
