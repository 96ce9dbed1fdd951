"""Stub package for ``torchvision.transforms.functional``."""
