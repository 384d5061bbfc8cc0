"""The generated gRPC code is current, and every proto element is documented."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_generator() -> object:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_protos"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_not_stale(tmp_path: Path) -> None:
    gen = _load_generator()
    fresh = gen.generate(tmp_path)  # type: ignore[attr-defined]
    assert fresh
    committed_dir = ROOT / "numrep" / "v1"
    fresh_names = {p.name for p in fresh}
    assert fresh_names == {p.name for p in committed_dir.iterdir() if p.is_file()}, "run scripts/gen_protos.py"
    stale = [p.name for p in fresh if p.read_bytes() != (committed_dir / p.name).read_bytes()]
    assert not stale, f"generated code is stale ({stale}); run: python scripts/gen_protos.py"


def test_every_message_field_enum_and_rpc_is_documented() -> None:
    undocumented = []
    for proto in sorted((ROOT / "protos" / "numrep" / "v1").glob("*.proto")):
        lines = proto.read_text().splitlines()
        for i, line in enumerate(lines):
            s = line.strip()
            is_decl = re.match(r"^(message|enum|service|rpc)\s", s) or re.match(
                r"^(repeated\s+|optional\s+)?[\w.]+\s+\w+\s*=\s*\d+;", s
            )
            if is_decl and not lines[i - 1].strip().startswith("//"):
                undocumented.append(f"{proto.name}:{i + 1}: {s}")
    assert not undocumented, "\n".join(undocumented)


def test_package_is_numrep_v1() -> None:
    for proto in (ROOT / "protos" / "numrep" / "v1").glob("*.proto"):
        assert "package numrep.v1;" in proto.read_text()
