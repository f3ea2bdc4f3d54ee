"""Import every module's models so ``Model.metadata`` knows all tables (Alembic, tests).

Add a line here when a module gains a ``models.py``.
"""

from lms.authoring import models as authoring_models  # noqa: F401
from lms.competency import models as competency_models  # noqa: F401
from lms.courses import models as courses_models  # noqa: F401
from lms.forwarding import models as forwarding_models  # noqa: F401
from lms.people import models as people_models  # noqa: F401
from lms.quizzes import models as quizzes_models  # noqa: F401
from lms.reports import models as reports_models  # noqa: F401
from lms.xapi import models as xapi_models  # noqa: F401
