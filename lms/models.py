"""Import every module's models so ``Model.metadata`` knows all tables (Alembic, tests).

Add a line here when a module gains a ``models.py``.
"""

from lms import readcache  # noqa: F401  (table "read_stamp")
from lms.assessment import models as assessment_models  # noqa: F401
from lms.authoring import models as authoring_models  # noqa: F401
from lms.community import models as community_models  # noqa: F401
from lms.competency import models as competency_models  # noqa: F401
from lms.courses import models as courses_models  # noqa: F401
from lms.credentials import models as credentials_models  # noqa: F401
from lms.evaluation import models as evaluation_models  # noqa: F401
from lms.forwarding import models as forwarding_models  # noqa: F401
from lms.jobs import models as jobs_models  # noqa: F401  (table "job")
from lms.mail import models as mail_models  # noqa: F401
from lms.packages import models as packages_models  # noqa: F401
from lms.people import models as people_models  # noqa: F401
from lms.plans import models as plans_models  # noqa: F401
from lms.quizzes import models as quizzes_models  # noqa: F401
from lms.reports import models as reports_models  # noqa: F401
from lms.xapi import models as xapi_models  # noqa: F401
