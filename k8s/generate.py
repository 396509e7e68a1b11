"""Write the generated manifests of k8s/ from the code they must not drift from.

Sources: the topics (`callcenter_events.topics.ALL_TOPICS`), who writes and reads them
(`callcenter_events.access`), and each service's settings class (port, env prefix, the name of
its database URL). Output, committed: `base/kafka/topics.yaml`, `base/kafka/users.yaml`,
`base/env/*.env`, `base/services/<service>.yaml` and `components/keda/scaledobjects.yaml`.

    python3 -m uv run --frozen python k8s/generate.py           # write the files
    python3 -m uv run --frozen python k8s/generate.py --check   # exit 1 naming stale files

The test suite runs `--check`, so a topic, service or setting added without regenerating fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from manifests import generated_files


def stale_files(root: Path) -> list[Path]:
    """The generated files under `root` whose content is not what the generator writes now."""
    stale = []
    for relative, text in generated_files().items():
        path = root / relative
        if not path.is_file() or path.read_text() != text:
            stale.append(relative)
    return stale


def write_files(root: Path) -> list[Path]:
    """Write every generated file under `root`; return those that changed."""
    changed = stale_files(root)
    for relative, text in generated_files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.root)
        for path in stale:
            print(f"stale: k8s/{path} (run: python3 -m uv run --frozen python k8s/generate.py)")
        return 1 if stale else 0
    for path in write_files(args.root):
        print(f"wrote k8s/{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
