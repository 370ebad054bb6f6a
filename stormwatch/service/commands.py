"""`stormwatch serve`: the always-on service, its metrics server and a clean stop.

A plain typer command function, registered by the main CLI (`stormwatch.cli`); the
service (`stormwatch.service.serve`) and its web stack are imported when it runs.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from stormwatch.command_arguments import (
    ConfigFile,
    DeadLetterFile,
    StoreUrl,
    check_output_file,
    command_settings,
    err,
    fail,
)
from stormwatch.exceptions import StormwatchError

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    db: StoreUrl = None,
    config: ConfigFile = None,
    alerts_jsonl: Annotated[
        Path | None, typer.Option("--alerts-jsonl", help="Also append alert events here (JSONL).")
    ] = None,
    dead_letter: DeadLetterFile = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Also serve /metrics, /healthz, /readyz here (they are on --port too).",
        ),
    ] = None,
) -> None:
    """The always-on service: the live pipeline, its incident store, Slack and on-call.

    Comments come over POST /ingest, Meta webhooks and the collectors the config file
    lists; Slack buttons, delivery, on-call escalation, /metrics, /healthz and /readyz
    are served too. SIGTERM stops it cleanly; a restart resumes from its checkpoint."""
    import logging

    from prometheus_client import CollectorRegistry

    from stormwatch.service.exporter import metrics_address, start_metrics_server
    from stormwatch.service.serve import build_service

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not 0 <= port <= 65535:
        raise fail(f"--port must be in 0..65535, got {port}", 2)
    check_output_file(alerts_jsonl, "alerts", "--alerts-jsonl")
    check_output_file(dead_letter, "dead-letter", "--dead-letter")
    settings = command_settings(config, database_url=db)
    registry = CollectorRegistry()
    metrics_server = None
    service = None
    address = None
    try:
        try:
            service = build_service(
                settings,
                host=host,
                port=port,
                config_path=config,
                alerts_jsonl=alerts_jsonl,
                dead_letter=dead_letter,
                registry=registry,
            )
        except OSError as exc:
            # A file it opens (a collector's cursor, --alerts-jsonl, --dead-letter): the
            # port is bound later, and blaming it sent people to the wrong option.
            named = f" {exc.filename}" if exc.filename else ""
            raise fail(f"cannot start:{named}: {exc.strerror or exc}", 2) from None
        address = metrics_address(metrics_port)
        if address is not None:
            metrics_server = start_metrics_server(
                address[1], registry, host=address[0], health=service.health, ready=service.ready
            )
        service.run(ready=lambda url: err.print(f"stormwatch serve listening on {url}"))
    except StormwatchError as exc:
        raise fail(exc) from None
    except socket.gaierror as exc:
        # The metrics server starts first: failing before it is up, its host is at fault.
        culprit = (
            f"STORMWATCH_METRICS_HOST {address[0]!r}"
            if address is not None and metrics_server is None
            else f"--host {host!r}"
        )
        raise fail(f"cannot resolve {culprit} ({exc.strerror or exc})", 2) from None
    except OSError as exc:
        # The metrics server is up before the service binds --port: a busy port now is
        # --port's, unless the metrics server never started.
        option, where = (
            ("--port", f"{host}:{port}")
            if address is None or metrics_server is not None
            else ("--metrics-port", f"{address[0]}:{address[1]}")
        )
        raise fail(
            f"cannot listen on {where} ({exc.strerror or exc}): choose another {option}", 1
        ) from None
    finally:
        if metrics_server is not None:
            metrics_server.close()
        if service is not None:
            service.store.close()
