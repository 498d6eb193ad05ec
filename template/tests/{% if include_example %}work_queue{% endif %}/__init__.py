"""Tests of the example work-queue domain (users, jobs, results): delete them with it."""
