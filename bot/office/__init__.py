"""The officials' web workspace under ``/office/``: satisfaction and timeliness, comments,
feedback, what the bot could not answer, delivery health and usage, for signed-in staff.

Server-rendered (Jinja2 templates, Vietnamese first with English through the project's Babel
catalogs), no script or asset from outside: every file is served from `bot/office/static`.
`office_routes` gives the routes to mount on motcua's web app; `motcua staff` manages accounts.
"""

from bot.office.app import OfficeConfig, office_config, office_routes

__all__ = ["OfficeConfig", "office_config", "office_routes"]
