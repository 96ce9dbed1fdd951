"""The ``curate`` command line: one subcommand per module in ``curate/commands/``.

Every subcommand module has ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
User errors (:class:`CurateError`) print as one line on stderr and exit 2; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from curate.errors import CurateError

COMMANDS = {
    "build": "curate.commands.build",
    "explain": "curate.commands.explain",
    "mix": "curate.commands.mix",
    "export": "curate.commands.export",
    "stats": "curate.commands.stats",
    "show": "curate.commands.show",
    "diff": "curate.commands.diff",
    "card": "curate.commands.card",
    "steps": "curate.commands.steps",
    "classifier": "curate.commands.classifier",
    "train": "curate.commands.train",
    "eval": "curate.commands.eval",
    "ablate": "curate.commands.ablate",
    "generate": "curate.commands.generate",
    "lego": "curate.commands.lego",
    "bios": "curate.commands.bios",
    "serve": "curate.commands.serve",
    "sft-toy": "curate.commands.sft_toy",
    "fit-rule": "curate.commands.fit_rule",
}


def make_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` (a key of COMMANDS) only that command's module is imported,
    so ``curate build`` does not pay for the trainer's or the card's imports."""
    parser = argparse.ArgumentParser(prog="curate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"curate {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        if command is not None and name != command:
            sub.add_parser(name)  # never parsed: argv names another command
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _command(argv: list[str]) -> str | None:
    """The subcommand argv names (its first argument, when that is one), else None (help, errors)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def _version() -> str:
    from curate import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = make_parser(_command(argv)).parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except CurateError as exc:
        print(f"curate {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `curate show ... | head`: the reader left; stop quietly, as SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(f"curate {args.command}: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
