"""The regulator's side of the platform, apart from the lookup hot path.

- ``imports``: the shared whole-file importer (validation with line numbers, all-or-nothing).
- ``port_blacklist``: shut-down SMS sender ports (authoritative evidence).
- ``registry``: the number-resource registry (range allocations → holders).
- ``holders``: holder (operator and reseller) scores per period, and the range rules they lead to.
- ``timeliness``: complaint-handling timeliness of holders against the SLA.
- ``periods``: reporting periods (week, month, quarter).
- ``spam_list``: the spam reporting list the regulator publishes per period.
"""
