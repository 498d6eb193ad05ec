"""The template's own Python: rules Copier's questions apply, loaded by copier.yml."""
