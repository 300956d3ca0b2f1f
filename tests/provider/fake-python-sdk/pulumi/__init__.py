"""A stand-in for the `pulumi` Python SDK, enough to run an example program without
the engine: stack config from the FAKE_PULUMI_CONFIG environment variable
({"values": {...}, "secrets": [...]}), secrets as marked values, exports recorded."""

import json
import os

_CONFIG = json.loads(os.environ.get("FAKE_PULUMI_CONFIG", '{"values": {}, "secrets": []}'))
EXPORTS = {}


class Secret:
    """A secret value, as `Config.require_secret` returns it (an Output marked secret)."""

    def __init__(self, value):
        self.value = value


class Config:
    def get(self, key):
        return _CONFIG["values"].get(key)

    def require(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError(f"Missing required configuration variable '{key}'")
        return value

    def require_secret(self, key):
        return Secret(self.require(key))

    def get_int(self, key):
        value = self.get(key)
        return None if value is None else int(value)

    def get_bool(self, key):
        value = self.get(key)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise ValueError(f"{key}: not a boolean")
        return value == "true"

    def get_object(self, key):
        value = self.get(key)
        return None if value is None else json.loads(value)


class ResourceOptions:
    """Resource options; only `depends_on` is kept (the recorder ignores options)."""

    def __init__(self, depends_on=None, **kwargs):
        self.depends_on = list(depends_on or [])
        self.other = kwargs


def export(name, value):
    EXPORTS[name] = value
