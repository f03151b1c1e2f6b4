"""Report writers: each renders a list of ModelResult and nothing else."""
