"""Real-name card limits: ID validation, imports, findings, re-verification lists, statuses, the spam-list section."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from numrep.config import Settings
from numrep.models import Action, CardStatus, Channel, Reputation
from numrep.regulator import cards, spam_list
from numrep.regulator.imports import ImportRejected
from numrep.regulator.periods import Period
from numrep.store.base import Store
from numrep.store.sqlite import SQLiteStore

VALID_X = "11010519491231002X"  # a check character X (ten)
DAY = date(2026, 10, 1)
FLAGGED_AT = datetime(2026, 10, 20, tzinfo=UTC)


def make_id(n: int, born: str = "19900307") -> str:
    body = f"110105{born}{n:03d}"
    return body + cards.check_digit(body)


def registrations(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cards.REGISTRATION_COLUMNS)
        w.writerows(rows)
    return path


def statuses(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cards.STATUS_COLUMNS)
        w.writerows(rows)
    return path


def number(n: int) -> str:
    return f"+86138{n:08d}"


class TestIdNumbers:
    def test_a_valid_id_with_check_character_x_is_accepted_in_either_case(self) -> None:
        assert cards.id_problem(VALID_X) is None
        assert cards.id_problem(VALID_X.lower()) is None
        assert cards.id_hash(b"k" * 32, VALID_X) == cards.id_hash(b"k" * 32, VALID_X.lower())

    @pytest.mark.parametrize(
        ("raw", "problem"),
        [
            ("110105194912310021", "check character does not match (ISO 7064 MOD 11-2)"),
            ("11010519491231002", "17 characters, expected 18"),
            ("11010519491231002X1", "19 characters, expected 18"),
            ("1101051949123100AX", "the first 17 characters must be digits"),
            ("11010519491231002Y", "the check character must be a digit or X"),
        ],
    )
    def test_malformed_ids_are_named_without_quoting_them(self, raw: str, problem: str) -> None:
        assert cards.id_problem(raw) == problem

    def test_the_birth_date_inside_must_be_a_plausible_date(self) -> None:
        assert cards.id_problem(make_id(1, born="19900230")) == "the birth date inside is not a date"
        assert (
            cards.id_problem(make_id(1, born="18991231"))
            == "the birth date inside lies before 1900 or after the registration date"
        )
        assert (
            cards.id_problem(make_id(1, born="20261002"), registered_on=DAY)
            == "the birth date inside lies before 1900 or after the registration date"
        )

    def test_a_file_with_bad_ids_is_rejected_whole_with_line_and_field_never_the_id(
        self, store: Store, settings: Settings, tmp_path: Path
    ) -> None:
        bad = {
            "110105194912310021": "check character",
            "11010519491231002": "17 characters",
            make_id(2, born="19901301"): "birth date inside is not a date",
        }
        rows = [(VALID_X, "China Mobile", number(1), "2026-10-01", "Shop 1")]
        rows += [(raw, "China Mobile", number(i + 2), "2026-10-01", "Shop 1") for i, raw in enumerate(bad)]
        path = registrations(tmp_path / "cards.csv", rows)
        with pytest.raises(ImportRejected) as exc:
            cards.import_registrations(store, settings.id_number_key, path)
        assert [(e.line, e.message.split(":")[0]) for e in exc.value.errors] == [
            (3, "id_number"),
            (4, "id_number"),
            (5, "id_number"),
        ]
        for e, what in zip(exc.value.errors, bad.values()):
            assert what in e.message
        for raw in bad:
            assert raw not in str(exc.value)
        assert list(store.iter_cards()) == []  # nothing imported

    def test_other_fields_are_checked_with_line_numbers(self, store: Store, settings: Settings, tmp_path: Path) -> None:
        path = registrations(
            tmp_path / "cards.csv",
            [
                (VALID_X, "", number(1), "2026-10-01", "Shop"),
                (VALID_X, "China Mobile", "not a number", "2026-10-01", "Shop"),
                (VALID_X, "China Mobile", number(3), "2999-01-01", "Shop"),
                (VALID_X, "China Mobile", number(4), "2026-10-01", ""),
                (VALID_X, "China Mobile", number(5), "2026-10-01", "Shop"),
                (VALID_X, "China Mobile", number(5), "2026-10-01", "Shop"),
            ],
        )
        with pytest.raises(ImportRejected) as exc:
            cards.import_registrations(store, settings.id_number_key, path)
        assert [str(e) for e in exc.value.errors] == [
            "line 2: operator: required",
            "line 3: number: contains letters (only digits, spaces, dashes, dots, brackets and a leading + are accepted)",
            "line 4: date 2999-01-01: lies in the future",
            "line 5: seller: required",
            "line 7: duplicate card of China Mobile for number tel:+8613800000005 (first on line 6)",
        ]


def load(store: Store, settings: Settings, tmp_path: Path) -> None:
    """ID 1: seven cards at China Mobile (over the limit) and one at China Unicom; ID 2: four at each of three
    operators (a concentration); ID 3: two cards, one of them later flagged; ID 4: one card, flagged before."""
    rows = [
        (make_id(1), "China Mobile", number(i), "2026-10-01", "Shop A" if i < 4 else "Reseller R") for i in range(7)
    ]
    rows.append((make_id(1), "China Unicom", number(7), "2026-10-01", "Shop U"))
    rows += [
        (make_id(2), op, number(100 + 10 * k + i), "2026-09-01", "Shop B")
        for k, op in enumerate(["China Mobile", "China Unicom", "China Telecom"])
        for i in range(4)
    ]
    rows += [(make_id(3), "China Mobile", number(200 + i), "2026-10-01", "Shop A") for i in range(2)]
    rows.append((make_id(4), "China Mobile", number(300), "2026-10-25", "Shop A"))  # flagged before it was registered
    result = cards.import_registrations(store, settings.id_number_key, registrations(tmp_path / "cards.csv", rows))
    assert (result.rows, result.changed) == (len(rows), len(rows))
    store.put_reputations(
        [
            Reputation(
                f"tel:{n}",
                95,
                {Channel.VOICE: Action.BLOCK},
                {},
                9,
                8.0,
                FLAGGED_AT,
                FLAGGED_AT,
                ("x",),
                False,
                FLAGGED_AT,
            )
            for n in (number(200), number(300))
        ]
    )


def h(settings: Settings, n: int) -> str:
    return cards.id_hash(settings.id_number_key, make_id(n))


class TestFindings:
    def test_over_limit_concentration_and_later_flagged(self, store: Store, settings: Settings, tmp_path: Path) -> None:
        load(store, settings, tmp_path)
        found = cards.find(store)
        assert {k: f.kinds for k, f in found.items()} == {
            h(settings, 1): ("over_limit",),
            h(settings, 2): ("concentration",),
            h(settings, 3): ("later_flagged",),
        }
        one = found[h(settings, 1)]
        assert (one.cards, one.live, one.per_operator, one.over_at) == (
            8,
            8,
            {"China Mobile": 7, "China Unicom": 1},
            ("China Mobile",),
        )
        assert found[h(settings, 3)].flagged == (f"tel:{number(200)}",)
        # a lower concentration threshold finds ID 1 too (eight cards at two operators)
        assert cards.find(store, concentration=8)[h(settings, 1)].kinds == ("over_limit", "concentration")

    def test_re_verification_list_per_operator(self, store: Store, settings: Settings, tmp_path: Path) -> None:
        load(store, settings, tmp_path)
        mobile = cards.reverification_list(store, "China Mobile")
        got = sorted((e.card.number, e.reasons) for e in mobile)
        assert got == sorted(
            [(f"tel:{number(i)}", ("over_limit",)) for i in range(7)]
            + [(f"tel:{number(100 + i)}", ("concentration",)) for i in range(4)]
            + [(f"tel:{number(200 + i)}", ("later_flagged",)) for i in range(2)]
        )
        # China Unicom: ID 1 is within the limit there; ID 2 is concentrated
        assert sorted(e.card.number for e in cards.reverification_list(store, "China Unicom")) == [
            f"tel:{number(110 + i)}" for i in range(4)
        ]
        rows = list(csv.reader(io.StringIO(cards.reverification_csv(mobile).decode())))
        assert rows[0] == list(cards.REVERIFY_COLUMNS) and len(rows) == 14
        assert all(make_id(n) not in "".join(r) for r in rows for n in (1, 2, 3))

    def test_statuses_are_tracked_idempotently_and_leave_the_list(
        self, store: Store, settings: Settings, tmp_path: Path
    ) -> None:
        load(store, settings, tmp_path)
        path = statuses(
            tmp_path / "st.csv",
            [
                ("China Mobile", number(0), "reverified", "2026-10-10"),
                ("China Mobile", number(1), "cancelled", "2026-10-11"),
                ("China Mobile", number(2), "EXPIRED", "2026-10-12"),
            ],
        )
        assert cards.import_statuses(store, path).changed == 3
        assert cards.import_statuses(store, path).changed == 0  # idempotent
        got = store.get_cards([("China Mobile", f"tel:{number(i)}") for i in range(3)])
        assert [(c.status, c.status_on) for c in sorted(got.values(), key=lambda c: c.number)] == [
            (CardStatus.REVERIFIED, date(2026, 10, 10)),
            (CardStatus.CANCELLED, date(2026, 10, 11)),
            (CardStatus.EXPIRED, date(2026, 10, 12)),
        ]
        listed = {e.card.number for e in cards.reverification_list(store, "China Mobile")}
        assert not listed & {f"tel:{number(i)}" for i in range(3)} and f"tel:{number(3)}" in listed
        # re-importing the registrations keeps the statuses
        rows = [(make_id(1), "China Mobile", number(0), "2026-10-01", "Shop A")]
        assert (
            cards.import_registrations(
                store, settings.id_number_key, registrations(tmp_path / "again.csv", rows)
            ).changed
            == 0
        )
        assert (
            store.get_cards([("China Mobile", f"tel:{number(0)}")])[("China Mobile", f"tel:{number(0)}")].status
            is CardStatus.REVERIFIED
        )

    def test_bad_status_updates_are_rejected_whole_with_line_numbers(
        self, store: Store, settings: Settings, tmp_path: Path
    ) -> None:
        load(store, settings, tmp_path)
        cards.import_statuses(
            store, statuses(tmp_path / "a.csv", [("China Mobile", number(1), "cancelled", "2026-10-11")])
        )
        path = statuses(
            tmp_path / "b.csv",
            [
                ("China Mobile", number(0), "reverified", "2026-10-10"),  # fine, but the file is rejected
                ("China Mobile", number(1), "reverified", "2026-10-12"),  # cancelled is final
                ("China Mobile", number(99), "reverified", "2026-10-12"),  # no such card
                ("China Mobile", number(3), "expired", "2026-09-01"),  # before its registration
            ],
        )
        # rows are checked first (a bad row rejects the file before any card is read) ...
        bad_row = statuses(tmp_path / "c.csv", [("China Mobile", number(2), "active", "2026-10-12")])
        with pytest.raises(ImportRejected) as exc:
            cards.import_statuses(store, bad_row)
        assert [str(e) for e in exc.value.errors] == ["line 2: status: expected reverified, cancelled, expired"]
        # ... then every update against its card
        with pytest.raises(ImportRejected) as exc:
            cards.import_statuses(store, path)
        assert [str(e) for e in exc.value.errors] == [
            "line 3: status: the card is cancelled since 2026-10-11; that does not change",
            "line 4: number: no card of China Mobile registered for it",
            "line 5: date 2026-09-01: before the card's registration (2026-10-01)",
        ]
        assert (
            store.get_cards([("China Mobile", f"tel:{number(0)}")])[("China Mobile", f"tel:{number(0)}")].status
            is CardStatus.ACTIVE
        )


class TestSpamListSection:
    def test_indicators_per_operator_and_seller(self, store: Store, settings: Settings, tmp_path: Path) -> None:
        load(store, settings, tmp_path)
        cards.import_statuses(
            store,
            statuses(
                tmp_path / "st.csv",
                [
                    ("China Mobile", number(0), "reverified", "2026-10-10"),
                    ("China Mobile", number(5), "cancelled", "2026-10-11"),
                    ("China Mobile", number(6), "cancelled", "2026-11-02"),
                ],
            ),
        )  # after the period: not yet known in it
        section = spam_list.card_section(store, Period.parse("2026-10"))
        mobile = next(o for o in section["operators"] if o["operator"] == "China Mobile")
        assert mobile == {
            "operator": "China Mobile",
            "cards": 14,
            "ids_over_limit": 1,
            "cards_over_limit": 7,
            "high_risk": 13,
            "reverified": 1,
            "cancelled": 1,
            "expired": 0,
            "pending": 11,
            "progress": round(2 / 13, 4),
        }
        reseller = next(o for o in section["sellers"] if o["seller"] == "Reseller R")
        assert (reseller["cards"], reseller["cards_over_limit"], reseller["cancelled"]) == (3, 3, 1)
        assert section["ids_found"] == {"over_limit": 1, "concentration": 1, "later_flagged": 1}
        # cards registered after the period's end are not in it
        assert spam_list.card_section(store, Period.parse("2026-08"))["operators"] == []

    def test_the_section_in_every_format_byte_identical(self, store: Store, settings: Settings, tmp_path: Path) -> None:
        load(store, settings, tmp_path)
        period = Period.parse("2026-11")
        first = spam_list.publish(store, settings, period)
        assert first == spam_list.publish(store, settings, period)
        doc = json.loads(first["json"])
        assert [o["operator"] for o in doc["cards"]["operators"]] == ["China Mobile", "China Telecom", "China Unicom"]
        rows = list(csv.reader(io.StringIO(first["csv"].decode())))
        assert ["cards_operator", "", "China Mobile", "7", f"{0:.4f}"] == rows[
            [r[2] for r in rows].index("China Mobile")
        ][:5]
        assert any(r[0] == "cards_seller" and r[2] == "China Mobile / Reseller R" for r in rows)
        assert b'<section id="cards">' in first["html"] and b"Reseller R" in first["html"]
        # no cards: no section in the page
        assert b'<section id="cards">' not in spam_list.publish(store, settings, Period.parse("2026-08"))["html"]


class TestPrivacy:
    def test_no_raw_id_in_the_store_file_or_the_logs(
        self, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        store = SQLiteStore(tmp_path / "privacy.sqlite3")
        store.migrate()
        ids = [make_id(n) for n in range(5)] + [VALID_X]
        rows = [(raw, "China Mobile", number(i), "2026-10-01", "Shop") for i, raw in enumerate(ids)]
        cards.import_registrations(store, settings.id_number_key, registrations(tmp_path / "c.csv", rows))
        bad = registrations(
            tmp_path / "bad.csv",
            [
                (
                    ids[0][:17] + "0" if ids[0][17] != "0" else ids[0][:17] + "1",
                    "China Mobile",
                    number(9),
                    "2026-10-01",
                    "Shop",
                )
            ],
        )
        with pytest.raises(ImportRejected) as exc:
            cards.import_registrations(store, settings.id_number_key, bad)
        cards.reverification_csv(cards.reverification_list(store, "China Mobile"))
        store.close()
        data = b"".join(p.read_bytes() for p in tmp_path.glob("privacy.sqlite3*"))
        assert len(store.cards_of_ids([cards.id_hash(settings.id_number_key, ids[0])])) == 1
        for raw in ids:
            assert raw.encode() not in data and raw.lower().encode() not in data
            assert raw not in caplog.text and raw[:17] not in str(exc.value)
        # the hash is keyed with a key of its own
        assert settings.id_number_key not in (settings.hmac_key, settings.subscriber_key)
        assert cards.id_hash(settings.id_number_key, VALID_X) != cards.id_hash(settings.hmac_key, VALID_X)
