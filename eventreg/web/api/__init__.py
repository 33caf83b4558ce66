"""JSON API under /api/v1: the desk's endpoints (scanner apps, the desk page) and the organizer's
(the attendee list, one registration, exports), with an OpenAPI document generated from the
schemas that validate the requests.

Library: flask-smorest (marshmallow schemas, webargs parsing, apispec generation in one kept
package, with blueprints like Flask's). Chosen over hand-wiring apispec + webargs because the
decorator that validates a request is the one that documents it (``@bp.arguments(Schema)``), so
the document cannot drift from the checks; over APIFairy and flask-openapi3 because it is the most
used and maintained of the marshmallow-based ones and works with Flask 3 and marshmallow 4 here.
We use it for parsing and documentation only: errors keep our format (core.Parser, core.Api), and
the desk endpoints answer the JSON they always did (web/checkin_json), described by response
schemas that tests check real answers against. See docs/api.md.

- core.py: the blueprint, authentication, access per endpoint, parsing, errors, the document
- schemas.py: request and response schemas;  errors.py: every error code and its status
- scanner.py: the desk endpoints;  organizer.py: the organizer endpoints
- desk_roster.py (+ roster_schemas.py): the offline desk's roster
- desk_batches.py (+ batch_schemas.py): the offline desk's queue upload
"""

# Imported for their side effect: each module adds its routes to core.bp (so the names are unused).
from . import desk_batches, desk_roster, organizer, scanner  # noqa: F401
from .core import bp, document

# Last, after every route: runs when the app registers the blueprint, so it sees them all.
bp.record_once(document)

__all__ = ["bp"]
