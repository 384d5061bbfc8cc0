"""Import files read as streams in bounded memory; every bad input is a rejected import with a line number."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from numrep.regulator import port_blacklist
from numrep.regulator.imports import MAX_ERRORS, MAX_ROW_CHARS, stage_file

ROW = {"port": "10657000123456", "enterprise": "Acme", "reason": "loan ads", "source": "MIIT", "date": "2026-09-30"}
HEADER = "port,enterprise,reason,source,date\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def rejected(path: Path) -> list[str]:
    with pytest.raises(port_blacklist.ImportRejected) as exc:
        port_blacklist.parse_file(path)
    return [str(e) for e in exc.value.errors]


def rows_json(n: int, **override: object) -> list[dict[str, object]]:
    return [{**ROW, "port": f"1065{i:010d}", **override} for i in range(n)]


def test_a_huge_json_number_is_a_row_problem(tmp_path: Path) -> None:
    big = "7" * 5000
    body = (
        "[\n"
        + json.dumps(ROW)
        + ',\n{"port": '
        + big
        + ', "enterprise": "X", "reason": "r", "source": "s", "date": "2026-01-01"}\n]'
    )
    assert rejected(write(tmp_path, "n.json", body)) == ["line 3: a number of 5000 digits (at most 30)"]
    lines = json.dumps(ROW) + '\n{"port": -' + big + "}\n"
    assert rejected(write(tmp_path, "n.jsonl", lines)) == ["line 2: a number of 5000 digits (at most 30)"]


@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_deep_nesting_is_a_row_problem(tmp_path: Path, depth: int) -> None:
    body = "[\n" + json.dumps(ROW) + ',\n{"port": ' + "[" * depth + "]" * depth + "}\n]"
    assert rejected(write(tmp_path, "deep.json", body)) in (
        ["line 3: nested too deeply"],
        [f"line 3: a row longer than {MAX_ROW_CHARS} characters"],
    )
    assert rejected(write(tmp_path, "deep.jsonl", '{"port": ' + "[" * depth + "]" * depth + "}\n")) in (
        ["line 1: nested too deeply"],
        [f"line 1: a line longer than {MAX_ROW_CHARS} characters"],
    )


def test_overlong_rows_are_rejected_with_their_line(tmp_path: Path) -> None:
    long_csv = (
        HEADER + "10657000123456,Acme,x,MIIT,2026-01-01\n" + "10657000123457," + "x" * (MAX_ROW_CHARS + 10) + "\n"
    )
    assert rejected(write(tmp_path, "long.csv", long_csv)) == [f"line 3: a line longer than {MAX_ROW_CHARS} characters"]
    long_json = "[" + json.dumps(ROW) + ",\n\n" + json.dumps({**ROW, "reason": "x" * (3 * MAX_ROW_CHARS)}) + "]"
    assert rejected(write(tmp_path, "long.json", long_json)) == [
        f"line 3: a row longer than {MAX_ROW_CHARS} characters"
    ]


def test_json_array_structure_errors_name_their_line(tmp_path: Path) -> None:
    assert rejected(write(tmp_path, "a.json", "[\n" + json.dumps(ROW) + "\n" + json.dumps(ROW) + "]")) == [
        "line 3: invalid JSON: Expecting ',' delimiter"
    ]
    assert rejected(write(tmp_path, "b.json", "[\n" + json.dumps(ROW) + ",\n")) == ["line 3: unterminated JSON array"]
    assert rejected(write(tmp_path, "c.json", "[" + json.dumps(ROW) + "]\n\n{}")) == [
        "line 3: unexpected text after the JSON array"
    ]


def test_rows_split_across_read_blocks_keep_their_lines(tmp_path: Path) -> None:
    # given a JSON array whose rows straddle the 64 KiB read blocks, with numbers and strings cut at the edges
    rows = rows_json(3000, enterprise="E" * 37)
    body = "[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]"
    path = write(tmp_path, "split.json", body)
    entries = port_blacklist.parse_file(path)
    assert [e.port for e in entries] == [f"sms:1065{i:010d}" for i in range(3000)]
    # and an error far into the file is reported on its own line
    rows[2500]["date"] = "yesterday"
    assert rejected(write(tmp_path, "bad.json", "[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]")) == [
        "line 2502: date 'yesterday': expected YYYY-MM-DD"
    ]


def test_duplicates_name_the_first_line_and_are_counted_beyond_the_limit(tmp_path: Path) -> None:
    lines = [f"1065{i:010d},E,r,s,2026-01-01" for i in range(150)]
    body = HEADER + "\n".join(lines + lines[:120] + lines[:1]) + "\n"
    with pytest.raises(port_blacklist.ImportRejected) as exc:
        port_blacklist.parse_file(write(tmp_path, "dups.csv", body))
    errors = [str(e) for e in exc.value.errors]
    assert len(errors) == MAX_ERRORS and exc.value.more == 121 - MAX_ERRORS
    assert errors[0] == "line 152: duplicate port sms:10650000000000 (first on line 2)"
    assert errors[1] == "line 153: duplicate port sms:10650000000001 (first on line 3)"


def test_staging_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    def staged_peak(n: int) -> int:
        path = tmp_path / f"{n}.json"
        with open(path, "w") as fh:
            fh.write("[\n" + ",\n".join(json.dumps({"key": f"k{i:09d}", "value": "v" * 40}) for i in range(n)) + "\n]")
        tracemalloc.start()
        try:
            with stage_file(path, ("key", "value"), lambda line, row: (row["key"], row["value"]), lambda e: e[0]) as s:
                assert s.rows == n
                assert sum(1 for _ in s) == n
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = staged_peak(10_000), staged_peak(40_000)
    # 30,000 more rows cost their duplicate-detection hashes (16 bytes each), not the rows (~60 bytes of text each)
    assert large - small < 30_000 * 40, (small, large)
    assert large < 8_000_000, large
