"""The database core: engine, declarative base, mixins, sessions and error mapping.

Template-owned: `copier update` keeps these files current. Build on them from your own modules.
"""
