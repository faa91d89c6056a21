"""Rules and services, one module per concept (accounts, emails, passwords, tokens, token
management, pets access, events, moderation, media, mail, settings, ...), written once and called
by every contract's handlers, the CLI and the Ray jobs alike. Domain code never knows which
contract called it.

`settings.py` is the bottom of every process: it imports nothing of ours. The rest may import
`domain` and `storage` (services run their queries there); never `gateway` (tests/test_import_rules.py
holds it).
"""
