"""The command-line programs: genlab-train and genlab-report."""
