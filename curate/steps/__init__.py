"""Pipeline steps: pure batch-in/batch-out functions over the document schema (see step.py)."""
