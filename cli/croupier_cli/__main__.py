"""``python -m croupier_cli``: the ``croupier`` command line."""

from croupier_cli.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
