"""SQLAlchemy models, migrations and the artifact store (the service backbone issue)."""
