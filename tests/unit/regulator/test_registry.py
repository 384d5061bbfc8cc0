"""The number-resource registry: imports and resolving subjects to holders."""

from __future__ import annotations

from pathlib import Path

import pytest

from numrep.models import Allocation, HolderType
from numrep.regulator import registry
from numrep.regulator.imports import ImportRejected, ImportResult
from numrep.store.base import Store

HEADER = "prefix,holder,holder_type,size\n"
ROWS = [
    "+86 170,China Telecom,operator,100000000",
    "1700,Virtual Mobile Co,reseller,1000000",
    "tel:+861710,Cheap Cards Ltd,reseller,1000000",
    "sms:10657,China Mobile,operator,1000000000",
]


def write(tmp_path: Path, text: str, name: str = "ranges.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_parses_every_prefix_notation(tmp_path: Path) -> None:
    allocations = registry.parse_file(write(tmp_path, HEADER + "\n".join(ROWS)))
    assert [a.prefix for a in allocations] == ["tel:+86170", "tel:+861700", "tel:+861710", "sms:10657"]
    assert allocations[1] == Allocation("tel:+861700", "Virtual Mobile Co", HolderType.RESELLER, 1_000_000)


def test_longest_prefix_wins() -> None:
    reg = registry.Registry(
        [
            Allocation("tel:+86170", "China Telecom", HolderType.OPERATOR, 10**8),
            Allocation("tel:+861700", "Virtual Mobile Co", HolderType.RESELLER, 10**6),
            Allocation("sms:10657", "China Mobile", HolderType.OPERATOR, 10**9),
        ]
    )
    assert reg.holder_of("tel:+8617001234567").holder == "Virtual Mobile Co"  # type: ignore[union-attr]
    assert reg.holder_of("tel:+8617091234567").holder == "China Telecom"  # type: ignore[union-attr]
    assert reg.holder_of("sms:10657000123456").holder == "China Mobile"  # type: ignore[union-attr]
    assert reg.holder_of("tel:+8613800138000") is None


@pytest.mark.parametrize(
    "row, message",
    [
        ("+86 170,X,wholesaler,10", "line 2: holder_type 'wholesaler': expected operator or reseller"),
        ("+86 170,X,operator,lots", "line 2: size 'lots': expected a whole number"),
        ("+86 170,X,operator,0", "line 2: size 0: must lie between 1 and 10000000000 for prefix tel:+86170"),
        ("+86 17x,X,operator,10", "line 2: prefix '+86 17x': contains letters"),
        ("+86 170,,operator,10", "line 2: holder: required"),
    ],
)
def test_bad_rows_get_precise_errors(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(ImportRejected) as exc:
        registry.parse_file(write(tmp_path, HEADER + row + "\n"))
    assert str(exc.value.errors[0]).startswith(message)


def test_duplicate_prefixes_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as exc:
        registry.parse_file(write(tmp_path, HEADER + ROWS[0] + "\ntel:+86170,Other,operator,5\n"))
    assert [str(e) for e in exc.value.errors] == ["line 3: duplicate prefix tel:+86170 (first on line 2)"]


def test_import_is_idempotent_and_all_or_nothing(tmp_path: Path, store: Store) -> None:
    good = write(tmp_path, HEADER + "\n".join(ROWS))
    assert registry.import_file(store, good) == ImportResult(rows=4, changed=4)
    assert registry.import_file(store, good) == ImportResult(rows=4, changed=0)
    bad = write(tmp_path, HEADER + "+86 199,New Op,operator,10\nbad,X,operator,1\n", "bad.csv")
    with pytest.raises(ImportRejected):
        registry.import_file(store, bad)
    assert [a.prefix for a in store.allocations()] == sorted(a.prefix for a in registry.parse_file(good))
    assert registry.Registry.load(store).holder_of("tel:+8617101234567").holder == "Cheap Cards Ltd"  # type: ignore[union-attr]
