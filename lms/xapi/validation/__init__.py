"""Statement validation, one module per part of the xAPI specification.

- :mod:`.common`: data types (IRIs, UUIDs, timestamps, durations, language maps, extensions)
- :mod:`.agents`: actors, Agents and Groups
- :mod:`.verbs`, :mod:`.objects`, :mod:`.results`, :mod:`.contexts`, :mod:`.attachments`
- :mod:`.statements`: whole statements and sub-statements
- :mod:`.signatures`: signed statements (JWS)
"""

from lms.xapi.validation.common import Context
from lms.xapi.validation.statements import check_statement

__all__ = ["Context", "check_statement"]
