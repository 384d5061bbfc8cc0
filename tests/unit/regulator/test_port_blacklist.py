"""SMS-port blacklist import: precise errors with line numbers, all-or-nothing, idempotent."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from numrep import pipeline
from numrep.config import Settings
from numrep.models import Action, Channel
from numrep.regulator import port_blacklist
from numrep.store.base import Store

HEADER = "port,enterprise,reason,source,date\n"
GOOD = [
    "10657000123456,Acme Marketing,illegal loan ads,MIIT 2026-Q3 list,2026-09-30",
    "1065 5000 2222,Quick Credit Ltd,fraud SMS,MIIT 2026-Q3 list,2026-09-30",
    "sms:10659000333,Retail Blast Co,unsolicited retail SMS,provincial bureau,2026-10-15",
]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def rejected(path: Path, **kw: object) -> list[str]:
    with pytest.raises(port_blacklist.ImportRejected) as exc:
        port_blacklist.parse_file(path, **kw)  # type: ignore[arg-type]
    return [str(e) for e in exc.value.errors]


def test_csv_json_and_jsonl_give_the_same_entries(tmp_path: Path) -> None:
    csv_entries = port_blacklist.parse_file(write(tmp_path, "ports.csv", HEADER + "\n".join(GOOD) + "\n"))
    rows = [dict(zip(port_blacklist.COLUMNS, line.split(","))) for line in GOOD]
    json_entries = port_blacklist.parse_file(write(tmp_path, "ports.json", json.dumps(rows, indent=2)))
    jsonl_entries = port_blacklist.parse_file(write(tmp_path, "ports.jsonl", "\n".join(json.dumps(r) for r in rows)))
    assert csv_entries == json_entries == jsonl_entries
    assert [e.port for e in csv_entries] == ["sms:10657000123456", "sms:106550002222", "sms:10659000333"]
    assert csv_entries[0].listed_on == date(2026, 9, 30) and csv_entries[0].enterprise == "Acme Marketing"


def test_bom_and_header_case_are_fine(tmp_path: Path) -> None:
    text = "\ufeffPort,Enterprise,Reason,Source,Date\n" + GOOD[0] + "\n"
    assert len(port_blacklist.parse_file(write(tmp_path, "p.csv", text))) == 1


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "port,enterprise,reason,date\n" + GOOD[0],
            ["line 1: missing column(s) source (expected port,enterprise,reason,source,date)"],
        ),
        (
            "port,enterprise,reason,source,date,extra\n",
            ["line 1: unexpected column(s) extra (expected port,enterprise,reason,source,date)"],
        ),
        (
            HEADER + GOOD[0] + "\n13800138000,X,y,z,2026-01-01\n",
            ["line 3: port '13800138000': SMS ports start with 106"],
        ),
        (
            HEADER + GOOD[0] + "\nabc,X,y,z,2026-01-01\n",
            [
                "line 3: port 'abc': contains letters (only digits, spaces, dashes, dots, brackets and a leading + are accepted)"
            ],
        ),
        (
            HEADER + GOOD[0] + "\n" + GOOD[1] + "\n" + GOOD[0] + "\n",
            ["line 4: duplicate port sms:10657000123456 (first on line 2)"],
        ),
        (HEADER + "10657000123456,,loans,MIIT,2026-01-01\n", ["line 2: enterprise: required"]),
        (HEADER + "10657000123456,X,loans,MIIT,30/09/2026\n", ["line 2: date '30/09/2026': expected YYYY-MM-DD"]),
        (HEADER + "10657000123456,X,loans,MIIT,2999-01-01\n", ["line 2: date 2999-01-01: lies in the future"]),
        (HEADER + "10657000123456,X,loans,MIIT,2026-01-01,surplus\n", ["line 2: 6 cells, expected 5"]),
        ("", ["the file has no rows"]),
        (HEADER, ["the file has no rows"]),
    ],
)
def test_bad_csv_files_get_precise_errors(tmp_path: Path, body: str, expected: list[str]) -> None:
    assert rejected(write(tmp_path, "bad.csv", body)) == expected


def test_every_bad_row_is_listed(tmp_path: Path) -> None:
    body = HEADER + "".join(f"bad{i},X,y,z,2026-01-01\n" for i in range(150))
    with pytest.raises(port_blacklist.ImportRejected) as exc:
        port_blacklist.parse_file(write(tmp_path, "many.csv", body))
    assert len(exc.value.errors) == 100 and exc.value.more == 50
    assert str(exc.value).startswith("many.csv: 150 problems, nothing imported\n  line 2: port 'bad0'")


@pytest.mark.parametrize(
    "name, body, expected",
    [
        ("bad.json", '{"port": "10657"}', ["line 1: expected a JSON array of objects"]),
        (
            "bad.json",
            '[\n {"port": "10657000123456", "enterprise": "X", "reason": "r", "source": "s", "date": "2026-01-01"},\n {"port": 5\n]',
            ["line 4: invalid JSON: Expecting ',' delimiter"],
        ),
        (
            "bad.json",
            '[\n {"port": "10657000123456", "enterprise": "X", "reason": "r", "source": "s"}\n]',
            ["line 2: missing field(s) date"],
        ),
        ("bad.json", "[\n 42\n]", ["line 2: expected an object, got int"]),
        (
            "bad.jsonl",
            '{"port": "10657000123456", "enterprise": "X", "reason": "r", "source": "s", "date": "2026-01-01"}\nnot json\n',
            ["line 2: invalid JSON: Expecting value"],
        ),
        ("bad.json", "[]", ["the file has no rows"]),
    ],
)
def test_bad_json_files_get_precise_errors(tmp_path: Path, name: str, body: str, expected: list[str]) -> None:
    assert rejected(write(tmp_path, name, body)) == expected


def test_huge_and_binary_files_are_rejected(tmp_path: Path) -> None:
    body = HEADER + "".join(f"10657{i:09d},X,y,z,2026-01-01\n" for i in range(20))
    assert rejected(write(tmp_path, "big.csv", body), max_rows=10) == ["line 12: more than 10 rows"]
    assert rejected(write(tmp_path, "bin.csv", b"\xff\xfe\x00garbage\x00"))[0].startswith("not UTF-8 text")
    with pytest.raises(port_blacklist.ValidationError, match="unknown format 'xlsx'"):
        port_blacklist.parse_file(write(tmp_path, "ports.xlsx", "x"))


def test_a_bad_file_changes_nothing(tmp_path: Path, store: Store) -> None:
    good = write(tmp_path, "good.csv", HEADER + "\n".join(GOOD) + "\n")
    assert port_blacklist.import_file(store, good) == port_blacklist.ImportResult(rows=3, changed=3)
    store.clear_dirty(store.dirty_subjects(100))
    bad = write(tmp_path, "bad.csv", HEADER + "10658000999999,New,x,y,2026-01-01\nbad,X,y,z,2026-01-01\n")
    with pytest.raises(port_blacklist.ImportRejected):
        port_blacklist.import_file(store, bad)
    assert store.count_port_blacklist() == 3
    assert store.port_blacklist(["sms:10658000999999"]) == {}
    assert store.dirty_subjects(100) == []


def test_reimport_is_idempotent_and_changes_are_picked_up(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "p.csv", HEADER + "\n".join(GOOD) + "\n")
    assert port_blacklist.import_file(store, path).changed == 3
    store.clear_dirty(store.dirty_subjects(100))
    assert port_blacklist.import_file(store, path).changed == 0
    assert store.dirty_subjects(100) == []
    changed = write(tmp_path, "p2.csv", HEADER + GOOD[0].replace("illegal loan ads", "fraud") + "\n")
    assert port_blacklist.import_file(store, changed).changed == 1
    assert [m.subject for m in store.dirty_subjects(100)] == ["sms:10657000123456"]
    assert store.port_blacklist(["sms:10657000123456"])["sms:10657000123456"].reason == "fraud"


def test_a_blacklisted_port_is_blocked_on_sms_with_the_reason(tmp_path: Path, store: Store, settings: Settings) -> None:
    port_blacklist.import_file(store, write(tmp_path, "p.csv", HEADER + GOOD[0] + "\n"))
    pipeline.rescore_dirty(store, settings)
    rep = store.get_reputation("sms:10657000123456")
    assert rep is not None and rep.action(Channel.SMS) is Action.BLOCK and rep.score == 100
    assert rep.reasons == ("SMS port shut down: illegal loan ads (Acme Marketing; MIIT 2026-Q3 list, 2026-09-30)",)
    assert "sms:10657000123456#sms" in store.active_rules()
