"""Example domain: a work queue of jobs and their results. Yours to change or delete."""
