"""genlab-report: a Markdown/HTML report of runs, from their folders alone (offline; W&B stays the live view)."""
