"""Saliency benchmark metrics and suites (the evaluation issue); depends on core only."""
