"""`make bench`: run every benchmark under bench/ and print its report."""

from __future__ import annotations

from bench import signing, wallet


def main() -> None:
    signing.main()
    wallet.main()


if __name__ == "__main__":
    main()
