"""Example domain: users who own jobs. Yours to change or delete."""
