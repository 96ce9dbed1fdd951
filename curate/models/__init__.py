"""Local model files (fastText), loaded once per process; nothing is ever downloaded."""
