"""The click group, its region options, and the one place errors become exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

import click
import redis

from crdtredis import __version__
from crdtredis.config import ConfigError, RegionConfig, load_config, parse_peers, redact
from crdtredis.errors import (
    CERTIFICATE_ADVICE,
    CRDTRedisError,
    IdentityError,
    certificate_problem,
)
from crdtredis.replication import Region

#: Errors that mean the input was wrong (exit 2) rather than the world (exit 1).
INPUT_ERRORS = (ValueError, KeyError, IndexError, TypeError)


class RunFailure(click.ClickException):
    """A failure at run time (exit 1): one line on stderr."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class BadInput(RunFailure):
    """Bad usage or bad input (exit 2): one line on stderr."""

    exit_code = 2


def explain(exc: BaseException, settings: Settings | None) -> RunFailure:
    """The one-line error and exit code for an exception a command let through."""
    urls = settings.urls() if settings else []
    # str() of a KeyError quotes its message; its argument is the message itself.
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    message = text.splitlines()[0] if text else type(exc).__name__
    for url in urls:
        message = message.replace(url, redact(url))
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        where = redact(settings.config.redis_url) if settings and settings.loaded else "Redis"
        problem = certificate_problem(message)
        if problem is not None:
            return RunFailure(
                f"Redis at {where} presented a TLS certificate that does not verify "
                f"({problem}): {CERTIFICATE_ADVICE}"
            )
        return RunFailure(
            f"cannot reach Redis at {where}: {message}; check that it runs and the URL is right"
        )
    if isinstance(exc, IdentityError):
        return RunFailure(message)
    if isinstance(exc, redis.exceptions.RedisError | OSError):
        return RunFailure(f"{type(exc).__name__}: {message}")
    if isinstance(exc, (ConfigError, CRDTRedisError, *INPUT_ERRORS)):
        return BadInput(message)
    return RunFailure(f"{type(exc).__name__}: {message}")


class CLIGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - every error becomes one line and a code
            raise explain(exc, ctx.find_object(Settings)) from None


@dataclass
class Settings:
    """The region options given to the group; the configuration is loaded on first use."""

    path: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    _config: RegionConfig | None = None
    _region: Region | None = None

    @classmethod
    def opened(cls, region: Region) -> Settings:
        """Settings around a region the caller opened (an embedding program, a test's fakeredis).

        Pass them as ``obj`` to the click group; region flags are then ignored.
        """
        return cls(_region=region)

    @property
    def loaded(self) -> bool:
        return self._config is not None

    @property
    def config(self) -> RegionConfig:
        if self._config is None:
            self._config = load_config(self.path, overrides=self.overrides)
        return self._config

    def region(self) -> Region:
        if self._region is None:
            self._region = Region.from_config(self.config)
        return self._region

    def urls(self) -> list[str]:
        if self._config is None:
            return [u for u in (self.overrides.get("redis_url"),) if u]
        return [self._config.redis_url, *(p.url for p in self._config.peers)]


pass_settings = click.make_pass_decorator(Settings)


@click.group(cls=CLIGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crdtredis")
@click.option(
    "--config",
    "path",
    type=click.Path(dir_okay=False),
    envvar="CRDTREDIS_CONFIG",
    help="TOML configuration file (env: CRDTREDIS_CONFIG).",
)
@click.option("--region", help="This region's name (env: CRDTREDIS_REGION).")
@click.option("--redis-url", help="This region's Redis (env: CRDTREDIS_REDIS_URL).")
@click.option(
    "--peer",
    "peers",
    multiple=True,
    metavar="NAME=URL",
    help="A peer region to pull from; repeatable (env: CRDTREDIS_PEERS=name=url,...).",
)
@click.option("--prefix", help="Key prefix (default crdt).")
@click.pass_context
def cli(
    ctx: click.Context,
    path: str | None,
    region: str | None,
    redis_url: str | None,
    peers: tuple[str, ...],
    prefix: str | None,
) -> None:
    """Conflict-free replicated counters, sets and event logs on plain Redis."""
    overrides: dict[str, Any] = {"region": region, "redis_url": redis_url, "prefix": prefix}
    try:
        if peers:
            overrides["peers"] = tuple(p for text in peers for p in parse_peers(text))
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    if isinstance(ctx.obj, Settings):
        # A caller that opened the region itself (a test, an embedding program).
        ctx.obj.overrides.update({k: v for k, v in overrides.items() if v is not None})
    else:
        ctx.obj = Settings(path, overrides)
