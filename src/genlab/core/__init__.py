"""How one run goes: its context, building it from a config, running it, its folder and its checkpoints.

Nothing is imported here, so that the light modules (run_folder, checkpoints) stay light for genlab-train --help.
"""
