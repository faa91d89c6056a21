"""Authentication: who is calling (PAT, JWT, session cookie, api_token cookie) and what they may do.

Part of the kernel: resolved once per request by the root middleware for every contract. May
import the rest of the kernel, `domain` and `storage`; never a contract package.
"""
