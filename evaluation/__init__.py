"""Detection quality measured on simulated worlds with ground truth (ARCHITECTURE §11, `make eval`).

* :mod:`evaluation.world` — a seeded, parameterised world: operators and
  resellers, honest and abusive callers, victims who complain, attacks on
  legitimate lines, and the ground truth of every number;
* :mod:`evaluation.feed` — feeds a world into a running platform through the
  public gRPC API only;
* :mod:`evaluation.platform` — the platform's server and worker as processes;
* :mod:`evaluation.metrics` — looks every number up and scores the verdicts
  against the ground truth and the targets;
* ``python -m evaluation`` — all of it, end to end.
"""
