from genlab.callbacks.rng_state import RNGStateCallback
from genlab.callbacks.throughput import Throughput

__all__ = ["RNGStateCallback", "Throughput"]
