"""gunicorn settings for eventreg: ``.venv/bin/gunicorn -c gunicorn.conf.py wsgi:app``.

Every setting can still be given on the command line (``-b``, ``-w``) or as ``GUNICORN_CMD_ARGS``.
The access log never carries a pass token or an invitation link: ``/r/<token>...`` becomes
``/r/[redacted]...`` (and ``/invite/<token>`` ``/invite/[redacted]``, ``/login/reset/<token>`` ``/login/reset/[redacted]``) in the request line, the path,
the query string and the referrer, and in gunicorn's own error lines.
"""

import os

from gunicorn.glogging import Logger

from eventreg.web.security import RedactFilter, redact_path

bind = "127.0.0.1:8000"  # behind the reverse proxy; -b to change
workers = int(os.environ.get("WEB_CONCURRENCY", 2))  # gunicorn's own convention
accesslog = "-"
errorlog = "-"
# The proxy's address is %(h)s unless forwarded_allow_ips names it (then X-Forwarded-For is used).
access_log_format = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'


class RedactingLogger(Logger):
    """gunicorn's logger, with pass tokens taken out of every atom and every error line."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact_path(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(RedactFilter())


logger_class = RedactingLogger


def on_starting(server):
    """Refuses unsafe production settings once, before any worker starts: otherwise every worker
    prints the list (wsgi.py) before the master gives up."""
    from flask import Config

    from eventreg.config import UnsafeConfiguration, exit_refused, instance_path, load

    try:
        load(Config(os.getcwd()), None, instance_path())
    except UnsafeConfiguration as refused:
        exit_refused(refused)
