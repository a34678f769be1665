"""Full-scale benchmark of the pipeline against single-machine baselines (bench/README.md)."""
