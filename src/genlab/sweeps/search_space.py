"""A sweep's search space: Hydra's sweep syntax in overrides and ``hydra.sweeper.params`` as Optuna distributions.

- ``choice(a, b, ...)`` and ``shuffle(range(...))``: a categorical distribution over the values;
- ``range(start, stop[, step])``: the integers (or floats) that Hydra's range yields, ``stop`` excluded as in
  Python, on Optuna's stepped int (or float) distribution;
- ``interval(low, high)``: a float between the two; ``tag(log, interval(low, high))`` on a log scale;
- anything else is a value the sweep keeps fixed.
"""

from __future__ import annotations

from typing import Any

from genlab.errors import ConfigError


def distributions_from_overrides(arguments: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The searched keys with their distributions, and the fixed keys with their values as written."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    searched: dict[str, Any] = {}
    fixed: dict[str, str] = {}
    for override in OverridesParser.create().parse_overrides(arguments):
        key = override.get_key_element()
        if override.is_sweep_override():
            searched[key] = _distribution(override, key)
        else:
            fixed[key] = override.get_value_element_as_str()
    return searched, fixed


def _distribution(override: Any, key: str) -> Any:
    from hydra.core.override_parser.types import IntervalSweep, RangeSweep, Transformer
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    sweep = override.value()
    if override.is_interval_sweep():
        assert isinstance(sweep, IntervalSweep)
        return FloatDistribution(float(sweep.start), float(sweep.end), log="log" in sweep.tags)
    values = list(override.sweep_iterator(transformer=Transformer.encode))
    if not values:
        raise ConfigError(
            f"{key}={override.input_line.split('=', 1)[-1]}: the sweep has no values; give it at least one"
        )
    if override.is_range_sweep() and not sweep.shuffle:
        assert isinstance(sweep, RangeSweep)
        if all(isinstance(v, int) for v in (*values, sweep.step)):
            return IntDistribution(values[0], values[-1], step=int(sweep.step))
        return FloatDistribution(float(values[0]), float(values[-1]), step=float(sweep.step))
    return CategoricalDistribution(values)


def grid_choices(name: str, distribution: Any) -> list[Any]:
    """The values a grid sampler visits for one key: every choice, every step of a range."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    if isinstance(distribution, IntDistribution) and not distribution.log:
        return list(range(distribution.low, distribution.high + 1, distribution.step))
    if isinstance(distribution, FloatDistribution) and distribution.step is not None:
        count = round((distribution.high - distribution.low) / distribution.step) + 1
        return [distribution.low + i * distribution.step for i in range(count)]
    raise ConfigError(
        f"hydra/sweeper/sampler=grid: {name} is an interval, which has no grid; give it as choice(...) or range(...)"
    )
