"""``python -m genlab.train``: the same as ``genlab-train`` (genlab.cli.train)."""

from genlab.cli.train import main

if __name__ == "__main__":
    main()
