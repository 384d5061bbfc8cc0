"""``numrep cards``: import, status, reverify and findings, directly on the store and through the server."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from numrep.cli import main
from numrep.config import Settings
from numrep.regulator import cards
from numrep.store.base import Store
from services.server import Server


def _id(n: int) -> str:
    body = f"11010519900307{n:03d}"
    return body + cards.check_digit(body)


def run(settings: Settings, *args: str, code: int = 0) -> str:
    env = {"NUMREP_DATA_DIR": str(settings.data_dir), "NUMREP_HASH_KEY": "k" * 64}
    done = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert done.exit_code == code, done.output
    return done.output


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_cards_cli_direct(settings: Settings, tmp_path: Path) -> None:
    rows = "".join(f"{_id(1)},China Mobile,+86138{i:08d},2026-10-01,Shop A\n" for i in range(7))
    regs = write(tmp_path / "cards.csv", "id_number,operator,number,date,seller\n" + rows)
    assert "7 cards valid, 7 new or changed" in run(settings, "cards", "import", "--direct", str(regs))
    assert "7 cards valid, 0 new or changed" in run(settings, "cards", "import", "--direct", str(regs))
    # a bad ID: the line and the field, exit 1, never the ID
    bad_id = _id(2)[:17] + ("0" if _id(2)[17] != "0" else "1")
    bad = write(
        tmp_path / "bad.csv",
        f"id_number,operator,number,date,seller\n{bad_id},China Mobile,+8613900000000,2026-10-01,S\n",
    )
    out = run(settings, "cards", "import", "--direct", str(bad), code=1)
    assert "id_number: check character does not match" in out and bad_id[:17] not in out
    st = write(tmp_path / "st.csv", "operator,number,status,date\nChina Mobile,+8613800000000,cancelled,2026-10-05\n")
    assert "1 outcomes valid, 1 new or changed" in run(settings, "cards", "status", "--direct", str(st))
    listed = tmp_path / "list.csv"
    assert "6 cards to re-verify" in run(
        settings, "cards", "reverify", "--operator", "China Mobile", "--out", str(listed), "--direct"
    )
    rows_out = list(csv.reader(io.StringIO(listed.read_text())))
    assert rows_out[0] == list(cards.REVERIFY_COLUMNS) and len(rows_out) == 7
    assert {r[6] for r in rows_out[1:]} == {"over_limit"}
    out = run(settings, "cards", "findings")
    assert "ID numbers over the limit: 1" in out and "China Mobile" in out


def test_cards_cli_through_the_server(settings: Settings, store: Store, tmp_path: Path) -> None:
    srv = Server(settings, store=store).start()
    try:
        rows = "".join(f"{_id(1)},China Unicom,+86130{i:08d},2026-10-01,Reseller R\n" for i in range(6))
        regs = write(tmp_path / "cards.csv", "id_number,operator,number,date,seller\n" + rows)
        assert "6 cards valid, 6 new or changed" in run(settings, "cards", "import", str(regs), "--target", srv.address)
        listed = tmp_path / "list.csv"
        run(settings, "cards", "reverify", "--operator", "China Unicom", "--out", str(listed), "--target", srv.address)
        assert listed.read_bytes() == cards.reverification_csv(cards.reverification_list(store, "China Unicom"))
    finally:
        srv.stop(grace=1)
