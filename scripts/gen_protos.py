"""Generate the Python gRPC code (with .pyi stubs) for protos/numrep/v1.

Usage: python scripts/gen_protos.py [--out DIR]

The output root defaults to the repository, so the modules land in
``numrep/v1/`` and import each other as ``numrep.v1.<name>_pb2``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def generate(out: Path) -> list[Path]:
    from grpc_tools import protoc

    try:
        from importlib.resources import files

        include = str(files("grpc_tools") / "_proto")
    except Exception as exc:  # pragma: no cover - grpc_tools always ships it
        raise SystemExit(f"grpc_tools has no bundled well-known protos: {exc}") from exc
    protos = sorted(PROTO_ROOT.glob("numrep/v1/*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_ROOT}/numrep/v1")
    target = out / "numrep" / "v1"
    target.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *[str(p.relative_to(PROTO_ROOT)) for p in protos],
    ]
    rc = protoc.main(args)
    if rc != 0:
        raise SystemExit(f"protoc failed with exit code {rc}")
    init = target / "__init__.py"
    init.write_text('"""Generated gRPC code for numrep.v1 (do not edit; run scripts/gen_protos.py)."""\n')
    return sorted(p for p in target.iterdir() if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="output root (default: the repository)")
    ns = parser.parse_args()
    for path in generate(ns.out):
        print(path.relative_to(ns.out))


if __name__ == "__main__":
    sys.exit(main())
