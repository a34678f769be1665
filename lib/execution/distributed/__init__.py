"""The distributed path of the yearly indicators: years whose matrix does not fit one task."""
