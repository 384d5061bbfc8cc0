"""numrep: phone-number and SMS-port reputation for operators and regulators.

The domain package shared by the gRPC services (``services/``) and the Celery
workers (``workers/``): subjects and their normalisation, scoring, rules, the
Bloom filter, storage backends and configuration.
"""

__version__ = "0.1.0"
