"""A minimal Hydra app (one config, one key): the baseline for `genlab-train --help` in scripts/startup_time.py."""

import hydra
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg: DictConfig) -> None:
    print(cfg)


if __name__ == "__main__":
    main()
