"""curate sft-toy OUT_DIR: write toy instruction data (arithmetic = specialised, string tasks =
general) in the messages, ShareGPT and Alpaca chat shapes, for SFT and the DMT recipe."""

from __future__ import annotations

from pathlib import Path

HELP = "generate toy chat data (math.jsonl, general_sharegpt.jsonl, general_alpaca.jsonl) for SFT/DMT"


def add_arguments(p) -> None:
    p.add_argument("out_dir", type=Path, help="directory for the three JSONL files")
    p.add_argument("--num-records", type=int, default=2000, help="records per file (default 2000)")
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from curate.errors import RecipeError
    from train.sft_toy import write_sft_toy

    if args.num_records < 1:
        raise RecipeError(f"--num-records={args.num_records} is out of range; allowed: >= 1")
    paths = write_sft_toy(args.out_dir, args.num_records, args.seed)
    print(f"wrote {len(paths)} files x {args.num_records} records to {args.out_dir}")
    return 0
