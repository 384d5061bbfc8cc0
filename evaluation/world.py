"""A simulated phone world with ground truth, seeded and parameterised.

:func:`generate` turns a :class:`WorldConfig` into a :class:`World`: the
number-resource registry (network operators and resellers), subscribers in
densely populated 1,000-number blocks, a few days of calls, the complaints
victims file, honeypots, attacks on legitimate lines, and the truth about
every number. Every behavioural rate is a range in the config; the world
draws its own values from them (per world and per caller), so another seed or
other ranges give a different but plausible world. Nothing here talks to the
platform (that is :mod:`evaluation.feed`).

Operators ship what their terminating switches see: calls *to* their
subscribers (and to the reseller numbers they host, and to vacant numbers of
their blocks). Some ship raw records, some hourly aggregates per caller, some
nothing — so some abusers leave call records and some do not.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, fields
from enum import Enum

from numrep.models import Category

Span = tuple[float, float]
IntSpan = tuple[int, int]

BLOCK = 1_000  # numbers per populated block: 8 leading national digits + 3
DAY = 86_400.0

# Shares of complaints by category (the national complaint center, ARCHITECTURE §10).
SPAM_CATEGORIES: tuple[tuple[Category, float], ...] = (
    (Category.LOANS_FINANCE, 0.609),
    (Category.RETAIL, 0.125),
    (Category.INSURANCE, 0.080),
    (Category.EDUCATION_TRAINING, 0.073),
    (Category.OTHER, 0.113),
)
OPERATOR_POOL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("China Mobile", ("138", "139", "135", "150")),
    ("China Unicom", ("186", "185", "130", "156")),
    ("China Telecom", ("189", "133", "153", "180")),
    ("China Broadnet", ("192",)),
)
RESELLER_POOL = ("Snail Mobile", "Ali Communications", "Jingdong Telecom", "Suning Mobile")
# Protected numbers confused users report; the first three always, others drawn from these.
PROTECTED_ALWAYS = ("95588", "12315", "110")
PROTECTED_MORE = ("95533", "95555", "10086", "12345", "95511", "10010")


class Kind(str, Enum):
    """What a number really is."""

    LEGIT = "legit"
    BUSY_LEGIT = "busy_legit"
    SPAMMER = "spammer"
    FRAUD = "fraud"
    PROTECTED = "protected"


class Shipping(str, Enum):
    """What an operator sends the platform."""

    RAW = "raw"
    AGGREGATE = "aggregate"
    NONE = "none"


@dataclass(frozen=True)
class WorldConfig:
    """The knobs of a world. Sizes are multiplied by ``scale``; spans are drawn from per world or per caller."""

    seed: int = 1
    scale: float = 1.0
    days: int = 5
    # sizes (before scale)
    legit: int = 20_000
    busy_legit: int = 400
    spammers: int = 300
    fraud: int = 100
    live_sample: int = 20  # abusers whose evidence is fed last, to time the pipeline
    # the market
    operators: IntSpan = (3, 4)
    resellers: IntSpan = (2, 3)
    block_occupancy: Span = (0.25, 0.6)
    reseller_share_of_abusers: Span = (0.35, 0.45)
    reseller_share_of_legit: Span = (0.02, 0.08)
    # honest callers
    legit_calls_per_day: Span = (0.5, 3.0)
    legit_circle: IntSpan = (3, 15)
    legit_answer_rate: Span = (0.6, 0.95)
    legit_talk_median_s: Span = (40.0, 180.0)
    busy_calls_per_day: Span = (30.0, 150.0)
    busy_answer_rate: Span = (0.75, 0.95)
    busy_talk_median_s: Span = (15.0, 60.0)
    busy_callback_rate: Span = (0.05, 0.3)
    # abusers
    spam_calls_per_day: Span = (60.0, 300.0)
    spam_answer_rate: Span = (0.05, 0.35)
    spam_talk_median_s: Span = (4.0, 15.0)
    spam_sequential_share: Span = (0.4, 0.8)  # of spammers that dial consecutive numbers
    fraud_calls_per_day: Span = (40.0, 250.0)
    fraud_ring_once_share: Span = (0.5, 0.9)
    fraud_answer_rate: Span = (0.05, 0.25)
    fraud_international_share: Span = (0.0, 0.3)
    spam_callback_rate: Span = (0.0, 0.03)  # reached victims who call a spammer back ("who was that?")
    wangiri_callback_rate: Span = (0.05, 0.2)  # ring-once victims who call back: the fraud's aim
    # victims and complaints
    complain_rate: Span = (0.02, 0.12)  # per reached victim who answered (once per victim and abuser)
    missed_complain_factor: Span = (0.2, 0.5)  # ... times this for a missed call
    hotline_share: Span = (0.1, 0.3)
    app_number_share: Span = (0.3, 0.7)  # app reports that give the reporter's own number
    mistaken_legit_share: Span = (0.002, 0.01)
    mistaken_busy_share: Span = (0.02, 0.08)
    protected_numbers: IntSpan = (3, 5)
    protected_reporters: IntSpan = (5, 40)
    honeypots_per_block: IntSpan = (1, 6)
    # attacks on legitimate lines
    bombing_accounts: int = 2000
    slow_accounts_per_day: int = 10
    slow_days: int = 7
    competitor_targets: IntSpan = (3, 6)
    competitor_accounts: IntSpan = (3, 6)

    def __post_init__(self) -> None:
        if not 0 < self.scale <= 100:
            raise ValueError(f"scale: must lie in (0, 100], got {self.scale}")
        if not 1 <= self.days <= 6:
            raise ValueError(
                f"days: must lie in [1, 6] (the platform rejects records older than 7 days), got {self.days}"
            )
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) and value[0] > value[1]:
                raise ValueError(f"{f.name}: the low end {value[0]} is above the high end {value[1]}")

    def scaled(self, n: int, least: int = 1) -> int:
        return max(least, round(n * self.scale))


@dataclass(frozen=True)
class Allocation:
    """One registry row."""

    prefix: str  # tel:+86138
    holder: str
    holder_type: str  # operator | reseller
    size: int


@dataclass(slots=True)
class Truth:
    """The ground truth of one number."""

    subject: str
    kind: Kind
    holder: str
    role: str = ""  # courier, ride_hailing, business; an abuser's category; a protected number's name
    attack: str = ""  # bombing, slow, competitor: a legitimate line under attack
    victims_reported: int = 0  # distinct real victims who complained (abusers)
    records: int = 0  # call records or aggregated calls of it that some operator ships
    honeypot_hits: int = 0
    sequential: bool = False
    live: bool = False  # evidence held back for the live phase

    @property
    def abuser(self) -> bool:
        return self.kind in (Kind.SPAMMER, Kind.FRAUD)

    @property
    def legitimate(self) -> bool:
        return self.kind in (Kind.LEGIT, Kind.BUSY_LEGIT)


@dataclass(slots=True)
class Call:
    """A call as the terminating switch saw it (kept only when an operator ships it)."""

    record_id: str
    caller: str
    callee: str
    start: float  # epoch seconds
    ring_ms: int
    talk_s: int
    international: bool
    shipper: str  # the operator that sees and ships it


@dataclass(slots=True)
class ReportEvent:
    """A complaint as some client will submit it."""

    report_id: str
    reporter_id: str
    subject: str
    category: Category
    occurred_at: float
    source: str  # app | hotline
    sender: str  # whose API key sends it: "app" or a holder's name
    reporter_number: str = ""


@dataclass
class World:
    """Everything :func:`generate` made; ``truth`` holds every number to look up."""

    config: WorldConfig
    start: float
    end: float
    allocations: list[Allocation]
    shipping: dict[str, Shipping]  # operator -> what it ships
    honeypots: dict[str, str]  # number -> operator
    truth: dict[str, Truth]
    calls: list[Call]  # shipped calls only (raw or to be aggregated)
    reports: list[ReportEvent]
    drawn: dict[str, float] = field(default_factory=dict)  # the world-level values drawn from the spans

    @property
    def holders(self) -> list[str]:
        return sorted({a.holder for a in self.allocations})

    def count(self, kind: Kind) -> int:
        return sum(1 for t in self.truth.values() if t.kind is kind)

    def summary(self) -> dict[str, int]:
        out = {k.value: self.count(k) for k in Kind}
        out.update(
            attack_targets=sum(1 for t in self.truth.values() if t.attack),
            calls_shipped=len(self.calls),
            reports=len(self.reports),
            honeypots=len(self.honeypots),
            live_sample=sum(1 for t in self.truth.values() if t.live),
        )
        return out


def registry_csv(world: World) -> str:
    """The registry allocations as the import format takes them (numrep.regulator.registry)."""
    rows = ["prefix,holder,holder_type,size"]
    rows += [f"{a.prefix},{a.holder},{a.holder_type},{a.size}" for a in world.allocations]
    return "\n".join(rows) + "\n"


class _Gen:
    """The generator's state; one instance per world."""

    def __init__(self, cfg: WorldConfig, end: float) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.end = end
        self.start = end - cfg.days * DAY
        self.truth: dict[str, Truth] = {}
        self.calls: list[Call] = []
        self.reports: list[ReportEvent] = []
        self.allocations: list[Allocation] = []
        self.shipping: dict[str, Shipping] = {}
        self.host: dict[str, str] = {}  # holder -> the operator whose switches terminate its calls
        self.blocks: dict[str, list[str]] = defaultdict(list)  # holder -> its populated blocks (8 national digits)
        self.block_free: dict[str, list[int]] = {}  # block -> unassigned positions still to hand out
        self.block_holder: dict[str, str] = {}
        self.prefixes: dict[str, list[str]] = {}  # holder -> national prefixes it draws blocks from
        self.honeypots: dict[str, str] = {}
        self.drawn: dict[str, float] = {}
        self.complained: set[tuple[str, str]] = set()  # (victim, abuser)
        self.seq = 0

    # ---- drawing -----------------------------------------------------
    def u(self, span: Span) -> float:
        return self.rng.uniform(*span)

    def world_rate(self, name: str, spread: float = 0.35) -> Span:
        """A world-level centre drawn from the config's span, with a narrower span around it for callers."""
        lo, hi = getattr(self.cfg, name)
        centre = self.rng.uniform(lo, hi)
        self.drawn[name] = round(centre, 4)
        half = (hi - lo) * spread / 2
        return max(lo, centre - half), min(hi, centre + half)

    def next_id(self, kind: str) -> str:
        self.seq += 1
        return f"{kind}-{self.cfg.seed}-{self.seq}"

    def report_id(self) -> str:
        """A UUID (the platform's idempotency key), drawn from the world's generator so that worlds replay."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def account(self, number: str) -> str:
        """A person's stable app account id."""
        return "acct-" + hashlib.sha256(f"{self.cfg.seed}:{number}".encode()).hexdigest()[:16]

    # ---- the market ----------------------------------------------------
    def market(self) -> None:
        rng, cfg = self.rng, self.cfg
        n_ops = min(len(OPERATOR_POOL), rng.randint(*cfg.operators))
        n_res = min(len(RESELLER_POOL), rng.randint(*cfg.resellers))
        ops = rng.sample(OPERATOR_POOL, n_ops)
        modes = [Shipping.RAW, Shipping.AGGREGATE, Shipping.NONE]
        modes += [rng.choice(list(Shipping)) for _ in range(n_ops - len(modes))]
        rng.shuffle(modes)
        for (name, pool), mode in zip(ops, modes):
            chosen = rng.sample(pool, rng.randint(1, min(3, len(pool))))
            self.prefixes[name] = chosen
            self.shipping[name] = mode
            self.host[name] = name
            self.allocations += [Allocation(f"tel:+86{p}", name, "operator", 10**8) for p in chosen]
        operators = [name for name, _ in ops]
        host = rng.choice(operators)  # the network that carries the virtual operators' ranges
        self.allocations += [Allocation(f"tel:+86{p}", host, "operator", 10**8) for p in ("170", "171")]
        resellers = rng.sample(RESELLER_POOL, n_res)
        subs = [f"{p}{d}" for p in ("170", "171") for d in range(10)]
        rng.shuffle(subs)
        for i, name in enumerate(resellers):
            mine = subs[i::n_res]
            if not any(s.startswith("170") for s in mine) or not any(s.startswith("171") for s in mine):
                mine = sorted(set(mine) | {rng.choice([s for s in subs if s.startswith(p)]) for p in ("170", "171")})
            self.prefixes[name] = mine
            self.host[name] = host
            self.allocations += [Allocation(f"tel:+86{p}", name, "reseller", 10**7) for p in mine]

    def operators(self) -> list[str]:
        return [h for h in self.shipping]

    def resellers(self) -> list[str]:
        return [h for h in self.prefixes if h not in self.shipping]

    def new_block(self, holder: str) -> str:
        while True:
            p = self.rng.choice(self.prefixes[holder])
            block = p + "".join(self.rng.choice("0123456789") for _ in range(8 - len(p)))
            if block not in self.block_holder:
                break
        k = max(1, int(BLOCK * self.u(self.cfg.block_occupancy)))
        self.block_free[block] = self.rng.sample(range(BLOCK), k)
        self.block_holder[block] = holder
        self.blocks[holder].append(block)
        return block

    def take_number(self, holder: str) -> str:
        blocks = self.blocks[holder]
        if not blocks or not self.block_free[blocks[-1]]:
            self.new_block(holder)
        block = blocks[-1]
        pos = self.block_free[block].pop()
        return f"tel:+86{block}{pos:03d}"

    def holder_of_number(self, number: str) -> str:
        return self.block_holder[number[7:15]]

    # ---- subscribers ---------------------------------------------------
    def subscribers(self) -> None:
        cfg, rng = self.cfg, self.rng
        operators, resellers = self.operators(), self.resellers()
        market_share = {op: rng.uniform(0.5, 1.5) for op in operators}
        res_legit = self.u(cfg.reseller_share_of_legit)
        res_abuse = self.u(cfg.reseller_share_of_abusers)
        self.drawn.update(reseller_share_of_legit=round(res_legit, 4), reseller_share_of_abusers=round(res_abuse, 4))

        people: list[tuple[Kind, str]] = []
        people += [(Kind.LEGIT, "")] * cfg.scaled(cfg.legit, 20)
        people += [
            (Kind.BUSY_LEGIT, rng.choice(("courier", "ride_hailing", "business", "business")))
            for _ in range(cfg.scaled(cfg.busy_legit, 3))
        ]
        # at least one business per competitor target
        people += [(Kind.BUSY_LEGIT, "business")] * cfg.competitor_targets[1]
        cats = [c for c, _ in SPAM_CATEGORIES]
        weights = [w for _, w in SPAM_CATEGORIES]
        people += [(Kind.SPAMMER, rng.choices(cats, weights)[0].value) for _ in range(cfg.scaled(cfg.spammers, 3))]
        people += [(Kind.FRAUD, Category.FRAUD.value)] * cfg.scaled(cfg.fraud, 2)
        rng.shuffle(people)
        for kind, role in people:
            share = res_abuse if kind in (Kind.SPAMMER, Kind.FRAUD) else res_legit
            if rng.random() < share:
                holder = rng.choice(resellers)
            else:
                holder = rng.choices(operators, [market_share[o] for o in operators])[0]
            number = self.take_number(holder)
            self.truth[number] = Truth(number, kind, holder, role)

    # ---- calls ---------------------------------------------------------
    def when(self, day: int) -> float:
        """A time on ``day`` (0 = the first), mostly 08:00–22:00 China time, never after the end."""
        hour = self.rng.uniform(8, 22) if self.rng.random() < 0.93 else self.rng.uniform(0, 24)
        t = self.start + day * DAY + (hour - 8) % 24 * 3600 + self.rng.uniform(0, 1)
        return min(t, self.end - 60)

    def ship(self, caller: str, callee: str, start: float, ring_ms: int, talk_s: int, intl: bool = False) -> None:
        """Keep the call if the operator terminating it ships anything."""
        if callee == caller:
            return
        block = callee[7:15]
        holder = self.block_holder.get(block)
        if holder is None:
            return
        shipper = self.host[holder]
        if self.shipping[shipper] is Shipping.NONE:
            return
        self.calls.append(Call(self.next_id("rec"), caller, callee, start, ring_ms, talk_s, intl, shipper))
        t = self.truth.get(caller)
        if t is not None:
            t.records += 1
            if callee in self.honeypots:
                t.honeypot_hits += 1

    def talk(self, median: float) -> int:
        return max(1, int(self.rng.lognormvariate(math.log(median), 0.8)))

    def honest_calls(self) -> None:
        cfg, rng = self.cfg, self.rng
        legit = [n for n, t in self.truth.items() if t.legitimate]
        l_rate, l_ans, l_talk = (
            self.world_rate(n) for n in ("legit_calls_per_day", "legit_answer_rate", "legit_talk_median_s")
        )
        b_rate, b_ans, b_talk, b_cb = (
            self.world_rate(n)
            for n in ("busy_calls_per_day", "busy_answer_rate", "busy_talk_median_s", "busy_callback_rate")
        )
        for number in legit:
            t = self.truth[number]
            if t.kind is Kind.LEGIT:
                circle = rng.sample(legit, rng.randint(*cfg.legit_circle))
                rate, ans, med = self.u(l_rate), self.u(l_ans), self.u(l_talk)
                for day in range(cfg.days):
                    for _ in range(_poisson(rng, rate)):
                        callee = rng.choice(circle)
                        answered = rng.random() < ans
                        self.ship(
                            number,
                            callee,
                            self.when(day),
                            rng.randint(2000, 20000) if answered else rng.randint(8000, 40000),
                            self.talk(med) if answered else 0,
                        )
            else:
                rate, ans, med, cb = self.u(b_rate), self.u(b_ans), self.u(b_talk), self.u(b_cb)
                for day in range(cfg.days):
                    for _ in range(_poisson(rng, rate)):
                        callee = rng.choice(legit)  # random, never consecutive (itself: not shipped)
                        start = self.when(day)
                        answered = rng.random() < ans
                        self.ship(
                            number,
                            callee,
                            start,
                            rng.randint(2000, 15000) if answered else rng.randint(10000, 40000),
                            self.talk(med) if answered else 0,
                        )
                        if rng.random() < cb:  # the customer calls back
                            back = min(self.end - 30, start + rng.uniform(60, 4 * 3600))
                            self.ship(callee, number, back, rng.randint(2000, 10000), self.talk(med))

    def abuse(self) -> None:
        """Spammers' and fraudsters' calls, honeypot hits, and the victims' complaints."""
        cfg, rng = self.cfg, self.rng
        s_rate, s_ans, s_talk = (
            self.world_rate(n) for n in ("spam_calls_per_day", "spam_answer_rate", "spam_talk_median_s")
        )
        f_rate, f_ring, f_ans, f_intl = (
            self.world_rate(n)
            for n in ("fraud_calls_per_day", "fraud_ring_once_share", "fraud_answer_rate", "fraud_international_share")
        )
        s_cb, w_cb = (self.world_rate(n) for n in ("spam_callback_rate", "wangiri_callback_rate"))
        complain, missed, hotline, app_number = (
            self.world_rate(n) for n in ("complain_rate", "missed_complain_factor", "hotline_share", "app_number_share")
        )
        seq_share = self.u(cfg.spam_sequential_share)
        self.drawn["spam_sequential_share"] = round(seq_share, 4)
        holders = sorted(self.blocks)
        abusers = [t for t in self.truth.values() if t.abuser]
        for t in abusers:
            fraud = t.kind is Kind.FRAUD
            rate = self.u(f_rate if fraud else s_rate)
            ans = self.u(f_ans if fraud else s_ans)
            ring_once = self.u(f_ring) if fraud else 0.0
            intl = self.u(f_intl) if fraud else 0.0
            med = self.u(s_talk)
            p_complain, p_missed = self.u(complain), self.u(missed)
            p_spam_cb, p_wangiri_cb = self.u(s_cb), self.u(w_cb)
            t.sequential = not fraud and rng.random() < seq_share
            category = Category(t.role)
            # an abuser works a number list of one or two holders' subscribers
            mine = rng.sample(holders, min(len(holders), rng.choice((1, 1, 2))))
            all_blocks = [b for h in mine for b in self.blocks[h]]
            for day in range(cfg.days):
                n_calls = _poisson(rng, rate)
                # sequential diallers work through runs of consecutive numbers in a few blocks
                block, pos = rng.choice(all_blocks), rng.randrange(BLOCK)
                for _ in range(n_calls):
                    if t.sequential:
                        pos += 1
                        if pos >= BLOCK or rng.random() < 0.003:
                            block, pos = rng.choice(all_blocks), rng.randrange(BLOCK)
                    else:
                        block, pos = rng.choice(all_blocks), rng.randrange(BLOCK)
                    callee = f"tel:+86{block}{pos:03d}"
                    start = self.when(day)
                    victim = self.truth.get(callee)
                    if victim is None or not victim.legitimate:  # vacant (or a honeypot) or another abuser
                        self.ship(t.subject, callee, start, rng.randint(0, 3000), 0, rng.random() < intl)
                        continue
                    if fraud and rng.random() < ring_once:
                        ring, talk = rng.randint(800, 5000), 0
                    elif rng.random() < ans:
                        ring, talk = rng.randint(2000, 15000), self.talk(med)
                    else:
                        ring, talk = rng.randint(6000, 30000), 0
                    self.ship(t.subject, callee, start, ring, talk, rng.random() < intl)
                    if rng.random() < (p_wangiri_cb if fraud and not talk and ring <= 5000 else p_spam_cb):
                        back = min(self.end - 30, start + rng.uniform(30, 6 * 3600))
                        self.ship(callee, t.subject, back, rng.randint(2000, 10000), rng.randint(3, 40))
                    p = p_complain * (1.0 if talk else p_missed)
                    if (callee, t.subject) not in self.complained and rng.random() < p:
                        self.complained.add((callee, t.subject))
                        t.victims_reported += 1
                        cat = category if rng.random() < 0.85 else rng.choice(list(Category))
                        after = start + (ring / 1000) + talk + rng.uniform(5, 6 * 3600)
                        self.victim_report(
                            callee, t.subject, cat, min(after, self.end - 5), self.u(hotline), self.u(app_number)
                        )

    def victim_report(
        self, victim: str, subject: str, category: Category, at: float, hotline: float, app_number: float
    ) -> None:
        if self.rng.random() < hotline:
            self.reports.append(
                ReportEvent(
                    self.report_id(), victim, subject, category, at, "hotline", self.truth[victim].holder, victim
                )
            )
        else:
            number = victim if self.rng.random() < app_number else ""
            self.reports.append(
                ReportEvent(self.report_id(), self.account(victim), subject, category, at, "app", "app", number)
            )

    # ---- honeypots, mistakes, confusion, attacks ------------------------
    def designate_honeypots(self) -> None:
        """Vacant numbers of record-shipping operators' own blocks (reseller blocks are not theirs)."""
        assigned: dict[str, set[int]] = defaultdict(set)
        for number in self.truth:
            assigned[number[7:15]].add(int(number[15:]))
        for op, mode in self.shipping.items():
            if mode is Shipping.NONE:
                continue
            for block in self.blocks[op]:
                vacant = sorted(set(range(BLOCK)) - assigned[block])
                for pos in self.rng.sample(vacant, min(len(vacant), self.rng.randint(*self.cfg.honeypots_per_block))):
                    self.honeypots[f"tel:+86{block}{pos:03d}"] = op

    def mistakes(self) -> None:
        cfg, rng = self.cfg, self.rng
        legit = [n for n, t in self.truth.items() if t.legitimate]
        p_legit, p_busy = self.u(cfg.mistaken_legit_share), self.u(cfg.mistaken_busy_share)
        self.drawn.update(mistaken_legit_share=round(p_legit, 5), mistaken_busy_share=round(p_busy, 5))
        for number in legit:
            t = self.truth[number]
            if rng.random() < (p_busy if t.kind is Kind.BUSY_LEGIT else p_legit):
                for _ in range(rng.randint(1, 2)):
                    reporter = rng.choice(legit)
                    self.victim_report(
                        reporter, number, rng.choice(list(Category)), rng.uniform(self.start, self.end - 5), 0.2, 0.5
                    )
        chosen = list(PROTECTED_ALWAYS) + rng.sample(PROTECTED_MORE, max(0, rng.randint(*cfg.protected_numbers) - 3))
        for raw in chosen:
            self.truth[raw] = Truth(raw, Kind.PROTECTED, "", raw)
            for reporter in rng.sample(legit, min(len(legit), rng.randint(*cfg.protected_reporters))):
                self.victim_report(
                    reporter,
                    raw,
                    rng.choice((Category.FRAUD, Category.LOANS_FINANCE, Category.OTHER)),
                    rng.uniform(self.start, self.end - 5),
                    0.1,
                    0.5,
                )

    def fresh(self, subject: str, at: float, category: Category) -> None:
        """A report from a brand-new app account that never gives a number."""
        self.reports.append(
            ReportEvent(self.report_id(), "fresh-" + self.next_id("acct"), subject, category, at, "app", "app")
        )

    def attacks(self) -> None:
        cfg, rng = self.cfg, self.rng
        plain = [t for t in self.truth.values() if t.kind is Kind.LEGIT and not t.attack]
        bombed, slow = rng.sample(plain, 2)
        bombed.attack, slow.attack = "bombing", "slow"
        hour = rng.uniform(self.start, self.end - 3600)
        for _ in range(cfg.bombing_accounts):
            self.fresh(bombed.subject, hour + rng.uniform(0, 3600), rng.choice((Category.FRAUD, Category.HARASSMENT)))
        for day in range(cfg.slow_days):
            for _ in range(cfg.slow_accounts_per_day):
                at = self.end - (cfg.slow_days - day) * DAY + rng.uniform(0, DAY - 60)
                self.fresh(slow.subject, at, Category.FRAUD)
        businesses = [t for t in self.truth.values() if t.role == "business" and not t.attack]
        rivals = rng.sample(businesses, min(len(businesses), rng.randint(*cfg.competitor_targets)))
        spammer = rng.choice([t for t in self.truth.values() if t.kind is Kind.SPAMMER])
        accounts = [f"acct-rival-{spammer.subject[-6:]}-{i}" for i in range(rng.randint(*cfg.competitor_accounts))]
        for rival in rivals:
            rival.attack = "competitor"
            for acct in accounts:
                for _ in range(rng.randint(1, 3)):
                    self.reports.append(
                        ReportEvent(
                            self.report_id(),
                            acct,
                            rival.subject,
                            Category(spammer.role),
                            rng.uniform(self.start, self.end - 5),
                            "app",
                            "app",
                        )
                    )

    def live_sample(self) -> None:
        evident = [t for t in self.truth.values() if t.abuser and t.victims_reported >= 3]
        for t in self.rng.sample(evident, min(len(evident), self.cfg.scaled(self.cfg.live_sample, 3))):
            t.live = True


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def generate(config: WorldConfig, end: float) -> World:
    """The world of ``config`` over the ``config.days`` days before ``end`` (epoch seconds)."""
    g = _Gen(config, end)
    g.market()
    g.subscribers()
    g.designate_honeypots()
    g.honest_calls()
    g.abuse()
    g.mistakes()
    g.attacks()
    g.live_sample()
    g.calls.sort(key=lambda c: c.start)
    g.reports.sort(key=lambda r: r.occurred_at)
    return World(config, g.start, g.end, g.allocations, g.shipping, g.honeypots, g.truth, g.calls, g.reports, g.drawn)
