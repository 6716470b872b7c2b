from . import access_log, main, portal
