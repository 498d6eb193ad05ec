"""What an operator sees of the running service: logs, metrics and traces (README, "Logs,
metrics and traces"). Template-owned, like `db`: `copier update` keeps it current."""
