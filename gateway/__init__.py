"""The HTTP gateway: app factory, settings, CLI, middlewares and one package per contract surface."""
