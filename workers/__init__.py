"""Celery workers of numrep: thin tasks over ``numrep.pipeline``."""
