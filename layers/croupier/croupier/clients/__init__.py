"""Clients of the providers' APIs we call (providers.md section 3 and the RabbitX-style scheme), one module each:
``http`` (the transport), ``operator_wallet``, ``rgs``, ``sportsbook`` (what the functions call), ``ruby_team`` and
``rabbitx`` (the command line's). Import the module you use: this package imports none of them, so a function that
needs one client does not load them all at its cold start.
"""
