"""Stub of torchvision: only the names ``streaming`` imports (see tests/stubs/README.md)."""
