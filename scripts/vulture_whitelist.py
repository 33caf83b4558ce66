"""Names that vulture (scripts/test's dead-code check) cannot see used: a library calls them by
name, or they are read from a template. Vulture reads this file as code that uses them; it is
never imported. Decorated views, commands and fixtures are skipped in pyproject.toml instead."""

# ruff: noqa: F821, B018
# Hooks that a library calls by name
_.handle_starttag, _.handle_endtag  # html.parser.HTMLParser (bench/registration.py)
_.handle_DATA, _.handle_RCPT, rcpt_options  # aiosmtpd handler hooks (mail catcher, tests/smtp.py)
impl, cache_ok, _.process_bind_param, _.process_result_value  # SQLAlchemy TypeDecorator (models/base.py)
_.get_id  # Flask-Login's UserMixin (models/staff.py)
_.isolation_level  # sqlite3 connection attribute set to take over transactions (eventreg/sqlite.py)
_.validate_family_kana, _.validate_given_kana, _.validate_email_confirm  # WTForms validate_<field>
widget, option_widget, _.field_flags, Meta  # WTForms / marshmallow class attributes
_.login_view, _.login_message, _.session_protection  # Flask-Login settings (web/auth.py)
# flask-smorest's Api / Blueprint and marshmallow-webargs settings and overrides (web/api/core.py)
DEFAULT_VALIDATION_STATUS, ARGUMENTS_PARSER, DEFAULT_ERROR_RESPONSE_NAME, ERROR_SCHEMA
_.load_json, _.handle_error, error_status_code, error_headers
_._register_error_handlers, _._register_pagination_header
accesslog, errorlog, access_log_format, on_starting  # gunicorn reads its settings and hooks by name (gunicorn.conf.py)
executemany, dbapi_conn, proxy  # SQLAlchemy event listener signatures (tests, bench)
_.sqlite_write_token  # set on flask.g, taken back by name with g.pop (web/__init__.py)
exitstatus  # a pytest hook argument (tests/conftest.py)
_._storage_dead  # Flask-Limiter's own flag, reset by tests/faults/test_hung_redis.py
_.daemon_threads  # socketserver.ThreadingMixIn setting (tests/races/conftest.py)
_.client_address, _.requestline, _.address_string  # http.server handler attributes (tests/web/test_security.py)
_.hinting, _.name_IDs, _.notdef_outline, _.flavor  # fontTools subset options, read by name (adapters/badge_fonts.py)

# Fields that are serialised or rendered, never read in Python
scan_method, checked_in_time, algorithm, personal_data, character, code_point, fields_  # API schemas
unicode, selectors, spaces, max_query, max_words, result_of_status, kana_rows, server_time  # the roster's schema
registration_opens  # a form field, rendered by the event editor's template
created_by  # a column: who wrote a message draft
verdict  # the desk batch operations' schema field, read from the loaded dict
device_seq, recorded_at  # desk_operation, checkin_conflict: the order and the time of arrival, kept for people who investigate
delivered  # reminders.TaskState: read by templates/admin/reminders.html

# Fixtures asked for their side effect only
app_ctx, no_env, without_unique_seq

# http.server's handler interface, used by tests/test_dropping_proxy.py's small upstream server
protocol_version, do_GET, do_POST, log_message


# limits' Storage interface, read by limits (eventreg/rate_counters.py)
STORAGE_SCHEME, base_exceptions

# itsdangerous calls it when signing and checking a reset link (eventreg/domain/access/password_reset.py)
get_timestamp

# an import row going above the capacity: read by templates/admin/_import_rows.html
above_capacity

# a template global (bp.app_template_global): read by templates/admin/_certificate_panel.html
issued_certificate
