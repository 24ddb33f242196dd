"""`python -m editor_agent.testing --script FILE`: serve a script until Ctrl-C, for offline runs and demos."""

from __future__ import annotations

import argparse
import sys
import threading

from pydantic import ValidationError

from .script import Script
from .server import MessagesServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m editor_agent.testing", description=__doc__)
    parser.add_argument("--script", required=True, help="YAML or JSON file with the scripted turns")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="the only credential accepted (default: any)")
    parser.add_argument("--auth", choices=["x-api-key", "bearer", "any"], default="any")
    parser.add_argument("--path", default="/v1/messages", help="the messages endpoint, e.g. /messages")
    parser.add_argument("--rate-limit-per-minute", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        script = Script.load(args.script)
    except (OSError, ValueError, ValidationError) as exc:
        print(f"cannot load {args.script}: {exc}", file=sys.stderr)
        return 2
    server = MessagesServer(
        script,
        api_key=args.api_key,
        auth=args.auth,
        path=args.path,
        host=args.host,
        port=args.port,
        rate_limit_per_minute=args.rate_limit_per_minute,
    )
    with server:
        print(server.url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    usage = server.usage
    print(
        f"{len(server.requests)} requests, {len(server.violations)} violations, "
        f"input {usage.input_tokens}, output {usage.output_tokens}, cache read {usage.cache_read_input_tokens}, "
        f"cache write {usage.cache_creation_input_tokens}",
        file=sys.stderr,
    )
    for violation in server.violations:
        print(f"violation: {violation}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
