"""CLI subcommands (see ``curate/cli.py``)."""
