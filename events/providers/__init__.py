"""Relay providers: the engines that run a webinar's media relays (see base.py)."""
