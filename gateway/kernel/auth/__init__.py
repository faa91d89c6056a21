"""Authentication: who is calling (PAT, JWT, session cookie, api_token cookie) and what they may do."""
