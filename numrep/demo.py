"""A small, deterministic demo data set drawn from the regulator's public figures.

Complaint categories follow the complaint center's quarterly mix (loans and
finance 60.9 %, retail 12.5 %, insurance 8.0 %, education 7.3 %, other
11.3 %); virtual-operator 170/171 numbers carry much of the abuse; a bank's
95xxx line is reported heavily but stays protected. Report ids are UUIDv5 of
fixed names, so loading the set twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from numrep import intake
from numrep.config import Settings
from numrep.models import Category, Channel, Source
from numrep.store.base import Store

NAMESPACE = uuid.UUID("8c1f3a52-5e0b-4c43-9d8e-6a1f0b7d2c11")


@dataclass(frozen=True)
class DemoSubject:
    number: str
    reporters: int
    category: Category
    channel: Channel
    note: str


SUBJECTS: tuple[DemoSubject, ...] = (
    DemoSubject("17012345678", 24, Category.LOANS_FINANCE, Channel.VOICE, "virtual-operator loan spam → BLOCK"),
    DemoSubject("17198765432", 18, Category.FRAUD, Channel.VOICE, "virtual-operator fraud → BLOCK"),
    DemoSubject("13912345678", 12, Category.INSURANCE, Channel.VOICE, "insurance sales → BLOCK"),
    DemoSubject("10657000123456", 15, Category.RETAIL, Channel.SMS, "retail SMS port → BLOCK (sms)"),
    DemoSubject("15012345678", 5, Category.EDUCATION_TRAINING, Channel.VOICE, "training offers → LABEL"),
    DemoSubject("18612345678", 6, Category.LOANS_FINANCE, Channel.VOICE, "loan offers → LABEL"),
    DemoSubject("95588", 200, Category.FRAUD, Channel.VOICE, "bank line, heavily reported → ALLOW (protected)"),
    DemoSubject("13700137000", 1, Category.OTHER, Channel.VOICE, "one complaint → ALLOW"),
    DemoSubject("13600136000", 2, Category.RETAIL, Channel.VOICE, "two complaints → ALLOW"),
)


def load(store: Store, settings: Settings, now: datetime | None = None) -> tuple[int, int]:
    """Load the demo reports; returns (new, duplicates)."""
    now = now or datetime.now(timezone.utc)
    reports = []
    for subj in SUBJECTS:
        for i in range(subj.reporters):
            name = f"{subj.number}/{i}"
            inp = intake.ReportInput(
                report_id=str(uuid.uuid5(NAMESPACE, name)),
                reporter_id=f"demo-reporter-{i:04d}",
                subject=subj.number,
                channel=subj.channel,
                category=subj.category,
                occurred_at=now - timedelta(hours=(i * 7) % 72),
                source=Source.HOTLINE if i % 5 == 0 else Source.APP,
            )
            reports.append(intake.validate(inp, settings.hmac_key, settings.region, now))
    accepted = intake.accept(store, reports)
    dup = sum(a.duplicate for a in accepted)
    return len(accepted) - dup, dup
