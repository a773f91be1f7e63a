"""Celery app and tasks (the service backbone issue): glue between core/evaluation and db."""
