"""Plots shared by curate, mixers and train: one style (style.py), PNG files via save_png."""
