"""Kedro's defaults; kedro-mlflow's hooks register themselves through their entry point."""
