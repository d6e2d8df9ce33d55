"""Stage diagnose: each run's outcome, its failure diagnosis and its throughput bound, with their evidence."""
