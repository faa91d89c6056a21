"""Placeholder: admin subcommands (users, apikeys) arrive with the identity issue (being built)."""

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    pass
