"""What content launched in a learner's browser may do with its launch credential.

A launch credential (:func:`lms.xapi.auth.issue_launch_credentials`) sits in the learner's
browser, so the learner holds it too: it must not be able to write anything the launched
content itself could not legitimately write. cmi5 (§9, §10, §11) bounds what an AU writes;
this module holds those bounds, in two places:

- **when a statement is written** (:func:`refusal`): the actor is the launched learner, the
  registration and the cmi5 session id are the launch's, the object is an Activity, the
  verbs only the LMS may use (launched, satisfied, abandoned, waived) and voiding are
  refused (cmi5 §6.3: no credential of an AU may void), a cmi5 defined statement is about
  the launched AU, and nothing in Lentera's own IRI space but the AU may be the object;
- **when a statement is consumed** (:func:`origin_of`, :func:`outside_launch`): every
  statement written with a launch credential carries an authority that names the launch
  (the LRS sets it; clients cannot), so every consumer that awards completion, JP,
  certificates or evidence can refuse a statement from a launch about anything but the
  launched AU (or an activity under its IRI, such as a question of the AU), whatever it was
  stored through.

The authority of such a statement::

    {"objectType": "Agent", "name": "<AU activity id>",
     "account": {"homePage": "<BASE_URL>/xapi/launch", "name": "<cmi5 session id>"}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

#: Verbs only the LMS records (cmi5 §9.3: launched, satisfied, abandoned, waived) and
#: voiding (cmi5 §6.3: "The LMS MUST NOT provide permissions/credentials which allow the
#: AU to issue voiding Statements").
LMS_ONLY_VERBS = frozenset({
    "http://adlnet.gov/expapi/verbs/launched",
    "https://w3id.org/xapi/adl/verbs/satisfied",
    "https://w3id.org/xapi/adl/verbs/abandoned",
    "https://w3id.org/xapi/adl/verbs/waived",
    "http://adlnet.gov/expapi/verbs/voided",
})
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
SESSION_EXT = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
#: State documents the LMS writes for the AU, which the AU may read and never change
#: (cmi5 §10: "The AU MUST NOT modify or delete the LMS.LaunchData State document").
LMS_STATE_DOCUMENTS = frozenset({"LMS.LaunchData"})
#: Agent Profile documents the AU may read (cmi5 §11: "The AU MUST retrieve the Learner
#: Preferences document from the Agent Profile on startup"). Writes are answered 403,
#: which cmi5 allows ("The AU MUST NOT treat the 403 response as an error condition").
READABLE_AGENT_PROFILES = frozenset({"cmi5LearnerPreferences"})
#: Activity ids Lentera gives content it launches itself (``urn:lentera:h5p:...``): like
#: its own IRIs, no launch may write about one but its own.
LENTERA_URN = "urn:lentera:"


_LAUNCH_PATH = "/xapi/launch"


def launch_home_page() -> str:
    """The ``homePage`` of the authority of statements written with a launch credential."""
    return f"{current_app.config['BASE_URL']}{_LAUNCH_PATH}"


@dataclass(frozen=True)
class LaunchOrigin:
    """The launch a stored statement was written under: its AU and cmi5 session."""

    activity_id: str
    session_id: str


def authority_for(activity_id: str, session_id: str) -> dict[str, Any]:
    """The authority the LRS stamps on statements written with a launch credential."""
    return {"objectType": "Agent", "name": activity_id,
            "account": {"homePage": launch_home_page(), "name": session_id}}


def origin_of(statement: dict[str, Any]) -> LaunchOrigin | None:
    """The launch a stored statement was written under, or None when it was not written
    with a launch credential (by Lentera itself or a client key).

    Reads the ``authority``, which the LRS sets on every statement it stores."""
    authority = statement.get("authority")
    if not isinstance(authority, dict):
        return None
    account = authority.get("account")
    if not isinstance(account, dict):
        return None
    home_page = account.get("homePage")
    # (The suffix first: most statements were not written under a launch, and every
    # consumer asks this of every statement.)
    if not isinstance(home_page, str) or not home_page.endswith(_LAUNCH_PATH) \
            or home_page != launch_home_page():
        return None
    return LaunchOrigin(activity_id=str(authority.get("name") or ""),
                        session_id=str(account.get("name") or ""))


def within(activity_id: Any, launched: str) -> bool:
    """Whether ``activity_id`` is the launched AU or an activity under its IRI (a page or
    question of the AU, e.g. ``<AU id>/test/t1/question/q1`` as cmi5.js names them)."""
    if not isinstance(activity_id, str) or not launched:
        return False
    if activity_id == launched:
        return True
    if not activity_id.startswith(launched) or _lentera_iri(activity_id):
        return False  # Lentera's own IRIs are never an AU's, whatever the AU's id
    return launched.endswith(("/", "#", "?")) or activity_id[len(launched)] in "/#?"


def _lentera_iri(iri: str) -> bool:
    base = current_app.config["BASE_URL"]
    return iri == base or iri.startswith(base + "/")


def _object_id(statement: dict[str, Any]) -> Any:
    obj = statement.get("object")
    if not isinstance(obj, dict) or obj.get("objectType", "Activity") != "Activity":
        return None
    return obj.get("id")


def outside_launch(statement: dict[str, Any]) -> bool:
    """True when the statement was written with a launch credential and is about anything
    but the launched AU (or an activity under it). Consumers that award completion, JP,
    certificates or evidence refuse such statements."""
    origin = origin_of(statement)
    if origin is None:
        return False
    return not within(_object_id(statement), origin.activity_id)


def refusal(statement: Any, *, actor_key: str | None, registration: str, activity_id: str,
            session_id: str, statement_actor_key: str | None) -> str | None:
    """Why a launch credential may not write ``statement``, or None when it may.

    ``statement_actor_key`` is the canonical key of the statement's actor (the caller
    computes it with the LRS's own agent key function).
    """
    if not isinstance(statement, dict):
        return None  # the LRS's validation answers 400 for it
    if statement_actor_key != actor_key:
        return ("actor: this launch credential may only write statements of the learner "
                "it was issued for.")
    context = statement.get("context")
    context = context if isinstance(context, dict) else {}
    if str(context.get("registration")).lower() != registration:
        return (f"context.registration: this launch credential may only write statements "
                f"with registration {registration}.")
    extensions = context.get("extensions")
    extensions = extensions if isinstance(extensions, dict) else {}
    if extensions.get(SESSION_EXT) != session_id:
        return (f"context.extensions[{SESSION_EXT}]: a statement of launched content must "
                f"carry the session id of its launch ({session_id}), as the contextTemplate "
                "of LMS.LaunchData gives it (cmi5 §9.6.3.1).")
    verb = statement.get("verb")
    verb_id = verb.get("id") if isinstance(verb, dict) else None
    if verb_id in LMS_ONLY_VERBS:
        return (f"verb: {verb_id} is recorded by the LMS only; launched content may not "
                "send it (cmi5 §6.3, §9.3).")
    obj = statement.get("object")
    if not isinstance(obj, dict) or obj.get("objectType", "Activity") != "Activity":
        return ("object: launched content may only write statements about activities (no "
                "agents, sub-statements or statement references).")
    object_id = obj.get("id")
    if within(object_id, activity_id):
        return None
    categories = (context.get("contextActivities") or {}).get("category") \
        if isinstance(context.get("contextActivities"), dict) else None
    if isinstance(categories, dict):
        categories = [categories]
    if isinstance(categories, list) and any(
            isinstance(c, dict) and c.get("id") == CMI5_CATEGORY for c in categories):
        return (f"object.id: a cmi5 defined statement of this launch must be about the "
                f"launched AU {activity_id} (cmi5 §9.4).")
    if isinstance(object_id, str) and (_lentera_iri(object_id)
                                       or object_id.startswith(LENTERA_URN)):
        return ("object.id: launched content may not write statements about Lentera's own "
                "courses, trainings or competencies; only about the launched AU "
                f"{activity_id} and its own activities.")
    return None
