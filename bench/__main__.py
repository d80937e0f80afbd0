"""`make bench`: run every benchmark under bench/ and print its report."""

from __future__ import annotations

from bench import coldstart, signing, stack, wallet


def main() -> None:
    signing.main()
    wallet.main()
    coldstart.main()
    stack.main()


if __name__ == "__main__":
    main()
