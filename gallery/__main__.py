"""`gallery` (serve on 127.0.0.1:5001) and `gallery export DIR` (static files); `byok-gallery` is
the same command under a name no other project uses.

`--stories myapp.stories` shows a developer's own story packages instead of byok's, `--reload`
refreshes the open page when a story or component changes, `--css app.css` adds the app's own
stylesheet, `--assets browser` compiles Tailwind in the page (for classes byok.css lacks).
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

__all__ = ["main"]

DEFAULT_HOST = "127.0.0.1"  # loopback only unless --host says otherwise
DEFAULT_PORT = 5001


def _common(p: argparse.ArgumentParser) -> None:
    """Options of both commands: which stories, which styles."""
    p.add_argument(
        "--stories",
        action="append",
        metavar="PACKAGE",
        help="story package to show, e.g. myapp.stories (repeatable; default: byok's own)",
    )
    p.add_argument(
        "--assets",
        choices=("prebuilt", "browser"),
        default="prebuilt",
        help="prebuilt: byok.css (default); browser: daisyUI + Tailwind compiled in the page",
    )
    p.add_argument(
        "--css",
        action="append",
        default=[],
        metavar="FILE",
        help="a stylesheet of your own, linked after byok's (repeatable)",
    )


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
        p.add_argument(
            "--reload",
            action="store_true",
            help="watch the stories and components; refresh the open page on a change",
        )
        _common(p)
    exp = sub.add_parser("export", help="write the gallery as static HTML into DIR")
    exp.add_argument("dir", help="output folder (created)")
    _common(exp)
    return parser


def main(
    argv: Sequence[str] | None = None,  # command-line arguments (default: sys.argv[1:])
) -> int:
    """Run the gallery command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)

    from .model.registry import StoriesError, use_stories
    from .ui.assets import NPM_INSTALL, assets_for

    try:
        assets = assets_for(args.assets, tuple(args.css))
        if args.stories:
            use_stories(*args.stories)
    except (FileNotFoundError, StoriesError) as e:
        parser.exit(2, f"gallery: {e}\n")
    if not assets.local:
        print(f"note: node_modules not found, pages load styles from the CDN (run `{NPM_INSTALL}`)")

    if args.command == "export":
        from .build.export import export

        report = export(args.dir, assets=assets)
        print(
            f"wrote {report.pages} pages and {report.assets} assets to {report.root} "
            f"in {report.seconds:.2f}s"
        )
        return 0

    import uvicorn

    from .app import create_app
    from .model.registry import registry

    app = create_app(db_url=args.db, assets=assets, reload=args.reload)
    registry()  # the stories, loaded now rather than by the first request
    # what is imported and made so far lives as long as the server: kept out of the collector's
    # sight, a full collection no longer stops a request for 15-70 ms (bench "cold load")
    gc.collect()
    gc.freeze()
    print(
        f"byok gallery on http://{args.host}:{args.port}/" + (" (reloading)" if args.reload else "")
    )
    # a page's open reload long-poll must not hold Ctrl+C up
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=1
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
