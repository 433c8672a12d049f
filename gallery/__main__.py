"""`uv run gallery` (serve on 127.0.0.1:5001) and `uv run gallery export DIR` (static files)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

DEFAULT_HOST = "127.0.0.1"  # loopback only unless --host says otherwise
DEFAULT_PORT = 5001


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gallery",
        description="The byok component gallery: every component in every variant, live.",
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve the gallery (the default command)")
    for p in (parser, serve):
        p.add_argument("--host", default=DEFAULT_HOST, help=f"interface (default {DEFAULT_HOST})")
        p.add_argument(
            "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
        )
        p.add_argument("--db", default=None, help="playground database URL (default: SQLite file)")
    exp = sub.add_parser("export", help="write the gallery as static HTML into DIR")
    exp.add_argument("dir", help="output folder (created)")
    return parser


def main(
    argv: Sequence[str] | None = None,  # command-line arguments (default: sys.argv[1:])
) -> int:
    """Run the gallery command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "export":
        from .export import export

        report = export(args.dir)
        print(
            f"wrote {report.pages} pages and {report.assets} assets to {report.root} "
            f"in {report.seconds:.2f}s"
        )
        if not report.local_assets:
            print("note: node_modules not found, pages load styles from the CDN (run `npm ci`)")
        return 0

    import uvicorn

    from .app import create_app
    from .assets import NPM_INSTALL, locate

    if not locate().local:
        print(
            f"note: front-end assets missing; run `{NPM_INSTALL}` for offline use (CDN meanwhile)"
        )
    app = create_app(db_url=args.db)
    print(f"byok gallery on http://{args.host}:{args.port}/")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
