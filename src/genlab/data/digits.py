import numpy as np

from genlab.data.image_classification import ImageClassificationDataModule


class DigitsDataModule(ImageClassificationDataModule):
    """scikit-learn's 1,797 8×8 handwritten digits: small enough for tests that train for real in seconds."""

    class_names = tuple(str(d) for d in range(10))

    def load_arrays(self):
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
        return images, digits.target, None, None
