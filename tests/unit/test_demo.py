"""The demo data set: each subject ends as its note says, and every BLOCK rests on evidence v2 trusts."""

from __future__ import annotations

from numrep import demo, pipeline
from numrep.config import Settings
from numrep.models import Action
from numrep.numbers import normalize
from numrep.store.base import Store


def test_demo_verdicts_rest_on_trusted_evidence(sqlite_store: Store, settings: Settings) -> None:
    assert demo.load(sqlite_store, settings)[1] == 0
    assert demo.load(sqlite_store, settings)[0] == 0  # loading twice changes nothing
    pipeline.rescore_dirty(sqlite_store, settings)
    for subj in demo.SUBJECTS:
        rep = sqlite_store.get_reputation(normalize(subj.number))
        assert rep is not None
        expected = Action(subj.note.rsplit("→ ", 1)[1].split()[0])
        assert rep.action(subj.channel) is expected, (subj.number, rep.reasons)
        if expected is Action.BLOCK:
            assert "unverified" not in rep.reasons[0]
            assert any(word in rep.reasons[0] for word in ("corroborated", "attested"))
    port = sqlite_store.get_reputation("sms:10657000123456")
    assert port is not None and port.reasons[0].startswith("SMS port shut down")
    assert [c.subject for c in sqlite_store.review_cases()] == ["tel:+8613800138000"]
