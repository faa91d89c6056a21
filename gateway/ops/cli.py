"""`roost`: the operator's command, one click group over the command modules of this package.

Each module defines its commands over `OpsContext` (context.py) alone; this file only assembles
them. A command returns its exit code and the root group exits with it; usage errors exit 2
(click's own), refusals 1, invalid settings 2.
"""

from __future__ import annotations

import click

from gateway.ops import api_logs, check, mail, runtime_settings, serve, tenants, users


@click.group(help="Roost backend")
def roost() -> None:
    pass


@roost.result_callback()
@click.pass_context
def _exit_with(ctx: click.Context, code: int | None) -> None:
    ctx.exit(code or 0)


for command in (
    serve.serve,
    serve.migrate,
    check.check,
    users.users,
    users.apikeys,
    runtime_settings.settings,
    api_logs.api_logs,
    mail.mail,
    tenants.tenants,
    tenants.packages,
):
    roost.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """The `roost` console script."""
    roost.main(args=argv, prog_name="roost")


if __name__ == "__main__":
    main()
