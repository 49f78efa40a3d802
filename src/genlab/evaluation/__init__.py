"""Evaluation of a run's model beyond its own test split: EleutherAI's lm-evaluation-harness (genlab.evaluation.lm_eval)."""
