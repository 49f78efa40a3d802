from genlab.callbacks.rng_state import RNGStateCallback

__all__ = ["RNGStateCallback"]
