"""Kobe shots: data preparation, training of two models, application to production data."""
