"""Password hashing with argon2 (pwdlib). Hashes only: no clear password is stored or returned."""

from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PasswordHashSettings(BaseSettings):
    """`PASSWORD_HASH_*`. The defaults are argon2-cffi's (about 100 ms a hash); tests go cheaper."""

    model_config = SettingsConfigDict(env_prefix="PASSWORD_HASH_", env_file=".env", extra="ignore")

    time_cost: int = Field(default=3, ge=1)
    memory_cost_kib: int = Field(default=65_536, ge=8)
    parallelism: int = Field(default=4, ge=1)


def password_hasher(settings: PasswordHashSettings) -> PasswordHash:
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.time_cost,
                memory_cost=settings.memory_cost_kib,
                parallelism=settings.parallelism,
            ),
        )
    )


@lru_cache
def configured_password_hasher() -> PasswordHash:
    return password_hasher(PasswordHashSettings())


async def get_password_hasher() -> PasswordHash:
    """FastAPI dependency; tests override it with cheap parameters. `async` though it never
    waits: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per request."""
    return configured_password_hasher()
