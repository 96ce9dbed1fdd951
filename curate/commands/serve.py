"""curate serve MODEL_DIR --port P: an OpenAI-compatible server for a local causal-LM folder."""

from __future__ import annotations

from pathlib import Path

HELP = "serve a local causal-LM folder over an OpenAI-compatible API (/v1/completions, chat, models)"


def add_arguments(p) -> None:
    p.add_argument("model_dir", type=Path, help="a save_pretrained folder (e.g. <run>/final)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free port, printed at start)")
    p.add_argument("--model-name", default=None, help="the model id clients send (default: the folder name)")
    p.add_argument("--fail-first", type=int, default=0, help="test hook: answer the first N requests with 503")
    p.add_argument("--delay-s", type=float, default=0.0, help="test hook: sleep before each generation")


def run(args) -> int:
    from curate.rephrase.server import serve

    httpd = serve(args.model_dir, args.host, args.port, model_name=args.model_name,
                  fail_first=args.fail_first, delay_s=args.delay_s)
    host, port = httpd.server_address[:2]
    print(f"serving {args.model_dir} on http://{host}:{port}/v1", flush=True)
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
    return 0
