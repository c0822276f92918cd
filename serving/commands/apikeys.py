"""`triage apikeys create` and `triage apikeys revoke`: API keys with roles, stored hashed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from serving.cli import app
from serving.settings import Settings
from workflow.errors import TriageError

console = Console(stderr=True)

apikeys_app = typer.Typer(help="Create and revoke API keys (roles: workflow, reviewer, admin).", no_args_is_help=True)
app.add_typer(apikeys_app, name="apikeys")

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the store [default: sqlite:///triage.db]")]


@apikeys_app.command("create")
def create_command(
    role: Annotated[str, typer.Option("--role", help="workflow (a workflow system), reviewer or admin")],
    name: Annotated[str, typer.Option("--name", help="a unique name for the key's owner, 1 to 100 characters")],
    db: DbOption = None,
) -> None:
    """Create an API key and print it once; only a salted hash of it is stored."""
    from workflow.store import open_store
    from workflow.store.governance import create_api_key

    try:
        with open_store(db or Settings().store_url) as store:
            key = create_api_key(store, name=name, role=role)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    except TriageError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None
    console.print(f"created key [bold]{name}[/bold] with role {role}. It is shown once; keep it secret:")
    typer.echo(key)


# The actor of the audit events a revocation writes when it releases the key's claims.
REVOKE_ACTOR = "cli:apikeys-revoke"


@apikeys_app.command("revoke")
def revoke_command(
    name: Annotated[str, typer.Argument(help="name of the key to revoke")],
    db: DbOption = None,
) -> None:
    """Revoke an API key; the API rejects it within TRIAGE_API_KEY_CACHE_SECONDS.

    Exceptions the key claimed and did not decide go back to their queues.
    """
    from workflow.store import open_store
    from workflow.store.governance import release_claims_of, revoke_api_key

    released: list[str] = []
    try:
        with open_store(db or Settings().store_url) as store:
            revoked = revoke_api_key(store, name)
            if revoked:
                released = release_claims_of(store, holder=name, released_by=REVOKE_ACTOR)
    except TriageError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None
    if not revoked:
        console.print(f"[red]error:[/red] no active API key is named {name!r}")
        raise typer.Exit(code=1)
    console.print(f"revoked key {name}")
    if released:
        if len(released) == 1:
            console.print("released 1 exception it had claimed back to its queue")
        else:
            console.print(f"released {len(released)} exceptions it had claimed back to their queues")


@apikeys_app.command("list")
def list_command(db: DbOption = None) -> None:
    """List every key's name, role, creation and revocation time (never the key)."""
    from workflow.store import open_store
    from workflow.store.governance import list_api_keys

    try:
        with open_store(db or Settings().store_url) as store:
            keys = list_api_keys(store)
    except TriageError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None
    for item in keys:
        revoked = item["revoked_at"].isoformat() if item["revoked_at"] else "active"
        typer.echo(f"{item['name']}\t{item['role']}\t{item['created_at'].isoformat()}\t{revoked}")
