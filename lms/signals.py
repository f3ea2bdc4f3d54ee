"""Documented extension points (blinker signals, as Flask uses them).

Each signal says who sends it and with which keyword arguments. Receivers must not commit;
they run inside the sender's transaction unless the docstring says otherwise.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

user_created = _signals.signal("user_created")
"""Sent by ``lms.people.service.create_user`` after the new user is flushed.

Arguments: ``user`` (the :class:`lms.people.models.User`).
"""

employees_imported = _signals.signal("employees_imported")
"""Sent by ``lms.people.importer.apply_import`` after an employee import is flushed.

Arguments: ``result`` (the :class:`lms.people.importer.ImportResult`).
"""
