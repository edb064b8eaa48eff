"""``python -m lib.train NAME [options]``: run one of the course's trainers.

``python -m lib.train`` lists them; ``python -m lib.train NAME --help`` shows a trainer's options.
"""

from __future__ import annotations

import importlib
import sys

from lib.train.recipes import RECIPES


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m lib.train NAME [options]   (NAME --help for a trainer's options)")
        print("trainers: " + ", ".join(RECIPES))
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in RECIPES:
        print(
            f"python -m lib.train: error: unknown trainer {name!r}; choose from "
            + ", ".join(RECIPES),
            file=sys.stderr,
        )
        return 2
    recipe = importlib.import_module(f"lib.train.recipes.{name}")
    return int(recipe.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
