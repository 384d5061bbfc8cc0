"""Protected subjects: numbers that are never blocked or labelled.

The built-in list covers China's emergency and public-service numbers, the
operators' customer-service lines and the banks' 95xxx lines; the configurable
allowlist (store, ``AdminService``) and ``allowlist_extra`` add to it.
"""

from __future__ import annotations

from collections.abc import Iterable

from numrep.numbers import normalize

# number -> what it is; normalised to tel:+86... at import.
BUILTIN: dict[str, str] = {
    "110": "police",
    "119": "fire",
    "120": "ambulance",
    "122": "traffic accidents",
    "999": "emergency rescue (Red Cross)",
    "12110": "police by SMS",
    "12306": "railway customer service",
    "12315": "consumer complaints (market regulation)",
    "12318": "culture market enforcement",
    "12320": "public health hotline",
    "12321": "spam and fraud reporting centre",
    "12333": "human resources and social security",
    "12345": "government service hotline",
    "12348": "legal aid",
    "12355": "youth services",
    "12358": "price supervision",
    "12366": "tax service",
    "12369": "environmental protection",
    "12377": "illegal internet content reporting",
    "12381": "fraud early-warning (MIIT)",
    "12123": "traffic police service",
    "10086": "China Mobile customer service",
    "10010": "China Unicom customer service",
    "10000": "China Telecom customer service",
    "10099": "China Broadnet customer service",
    "95588": "ICBC",
    "95533": "China Construction Bank",
    "95599": "Agricultural Bank of China",
    "95566": "Bank of China",
    "95559": "Bank of Communications",
    "95555": "China Merchants Bank",
    "95558": "China CITIC Bank",
    "95595": "China Everbright Bank",
    "95568": "China Minsheng Bank",
    "95561": "Industrial Bank",
    "95528": "Shanghai Pudong Development Bank",
    "95577": "Hua Xia Bank",
    "95508": "China Guangfa Bank",
    "95511": "Ping An",
    "95580": "Postal Savings Bank of China",
    "95519": "China Life",
    "95500": "Pacific Insurance",
    "95518": "PICC",
}


def builtin_protected() -> dict[str, str]:
    """The built-in list (China's numbers, so normalised in CN) as subjects -> description."""
    return {normalize(number, "CN"): what for number, what in BUILTIN.items()}


class ProtectedSet:
    """Membership test for protected subjects: built-in, configured and allowlisted.

    ``replace_allowlist`` swaps the store-backed part atomically (one reference
    assignment), so readers on other threads never see a half-built set.
    """

    def __init__(self, extra: Iterable[str] = (), region: str = "CN") -> None:
        self._fixed: dict[str, str] = builtin_protected()
        for raw in extra:
            self._fixed[normalize(raw, region)] = "configured allowlist"
        self._allowlist: dict[str, str] = {}

    def replace_allowlist(self, entries: dict[str, str]) -> None:
        self._allowlist = dict(entries)

    def reason(self, subject: str) -> str | None:
        """Why ``subject`` is protected, or None."""
        return self._fixed.get(subject) or self._allowlist.get(subject)

    def subjects(self) -> list[str]:
        """Every protected subject (built-in, configured, allowlisted)."""
        return sorted({*self._fixed, *self._allowlist})

    def __contains__(self, subject: object) -> bool:
        return subject in self._fixed or subject in self._allowlist

    def __len__(self) -> int:
        return len(self._fixed) + len(self._allowlist)
