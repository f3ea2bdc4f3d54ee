"""The profile engine: a statement consumer that turns xAPI statements into evidence and
competency profiles.

Processing is batched: the consumer runner hands over a batch of statements inside the
transaction that also advances the consumer's cursor (``handle_batch``), and the
engine does the work for the whole batch at once: a few indexed queries, and each kind of
derived row written in one statement (on PostgreSQL, column arrays unnested by the server).
Statements no rule can match are passed over on their indexed verb and activity, without
parsing their JSON. The result depends only on the statements, in stored order, and the
rule versions, so ``lms profiles rebuild`` (reset and replay) gives the same profiles as
the incremental path.

Per statement:

1. Its object activity is matched against the evidence rules (exact IRI or prefix); an
   ``answered`` statement about a question that a quiz rule tags is kept as an item result.
2. The actor is resolved to an employee (account {homePage: BASE_URL, name: NIP}, or the
   mbox / mbox_sha1sum of their e-mail); unknown actors are ignored.
3. The rule version in force when the statement was stored judges it; what it proves is
   stored as :class:`~lms.competency.models.Evidence`, with that version.
4. The level of each touched (employee, competency) is recomputed from its active
   evidence with the framework's policy (:mod:`lms.competency.policy`); reaching a higher
   level stores a ``mastered`` statement about the competency in the LRS.

A voiding statement withdraws the evidence of the statement it voids (and, for a quiz
answer, re-judges the quiz result that used it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from lms.competency.models import (
    Competency,
    Criterion,
    Evidence,
    EvidenceRule,
    Framework,
    QuizItemResult,
    UserCompetency,
)
from lms.competency.policy import EvidenceItem, aggregate, normalize_policy
from lms.competency.rules import (
    ANSWERED,
    MASTERED,
    QUIZ_RESULT_VERBS,
    RuleIndex,
    RuleVersion,
    items_level,
    judge,
)
from lms.db import get_session
from lms.people.models import User
from lms.xapi.consumers import StatementConsumer, StoredStatement
from lms.xapi.launch import outside_launch
from lms.xapi.validation.agents import agent_key
from lms.xapi.validation.common import statement_time

log = logging.getLogger(__name__)

CONSUMER_NAME = "competency"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
#: Namespace of the ids of the statements the engine emits (deterministic: emitting twice
#: is a no-op, so a replay never duplicates them).
EMIT_NAMESPACE = uuid.UUID("6f1c3f5e-6a0b-4a52-9a55-2f7c4e1d8b10")
#: xAPI activity type of a competency (an objective, in ADL's vocabulary).
COMPETENCY_TYPE = "http://adlnet.gov/expapi/activities/objective"


def level_extension() -> str:
    """The result extension that carries the level in emitted statements."""
    return cast("str", current_app.config["BASE_URL"] + "/competency/xapi/level")


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _table(model: type[Any]) -> sa.Table:
    """The Core table of ``model`` (typed as such)."""
    return cast(sa.Table, model.__table__)


class _Queries:
    """Statements of the hot path, built once: constructing SQLAlchemy statements costs
    more than running them on small batches."""

    def __init__(self, dialect: str) -> None:
        def expanding(name: str) -> sa.BindParameter[Any]:
            return sa.bindparam(name, expanding=True)

        self.configuration = sa.select(
            Framework.id, Framework.policy,
            sa.select(sa.func.max(EvidenceRule.id)).scalar_subquery(),
            sa.select(sa.func.count(EvidenceRule.id)).scalar_subquery(),
            sa.select(sa.func.max(Competency.id)).scalar_subquery(),
            sa.select(sa.func.count(Competency.id)).scalar_subquery(),
        ).order_by(Framework.id)
        self.users_by_nip = sa.select(User.nip, User.id).where(User.nip.in_(expanding("v")))
        self.users_by_email = sa.select(User.email, User.id).where(
            User.email.in_(expanding("v")))
        self.users_by_id = sa.select(User.id).where(User.id.in_(expanding("v")))
        item = QuizItemResult
        self.item_results = sa.select(
            item.user_id, item.quiz_iri, item.registration, item.question_iri, item.success,
            item.statement_seq,
        ).where(item.user_id.in_(expanding("users")), item.quiz_iri.in_(expanding("quizzes")),
                item.registration.in_(expanding("registrations")), item.voided.is_(False))
        # Idempotent writes: a statement handled twice adds nothing the second time.
        self.insert_items = _BulkInsert(_table(QuizItemResult), ITEM_FIELDS, dialect)
        self.insert_evidence = _BulkInsert(_table(Evidence), EVIDENCE_FIELDS, dialect)
        evidence, items = _table(Evidence).c, _table(QuizItemResult).c
        self.withdraw_evidence = _table(Evidence).update().where(
            evidence.statement_id == sa.bindparam("voided_id")).values(
            withdrawn=True, withdrawn_by=sa.bindparam("voiding_id")).returning(
            evidence.user_id, evidence.competency_id)
        self.void_item = _table(QuizItemResult).update().where(
            items.statement_id == sa.bindparam("voided_id"), items.voided.is_(False)).values(
            voided=True).returning(items.user_id, items.quiz_iri, items.statement_seq)
        self.active_evidence = sa.select(
            Evidence.user_id, Evidence.competency_id, Evidence.level, Evidence.weight,
            Evidence.source, Evidence.statement_seq, Evidence.occurred, Evidence.statement_id,
        ).where(Evidence.user_id.in_(expanding("users")),
                Evidence.competency_id.in_(expanding("competencies")),
                Evidence.withdrawn.is_(False))
        uc = UserCompetency
        self.profiles = sa.select(
            uc.user_id, uc.competency_id, uc.level, uc.progress, uc.evidence_count,
            uc.achieved_statement_id, uc.achieved_at,
        ).where(uc.user_id.in_(expanding("users")),
                uc.competency_id.in_(expanding("competencies")))
        self.write_profiles = _BulkInsert(_table(UserCompetency), PROFILE_KEY + PROFILE_FIELDS,
                                          dialect, update_on=PROFILE_KEY)


PROFILE_KEY = ("user_id", "competency_id")
PROFILE_FIELDS = ("level", "progress", "evidence_count", "achieved_statement_id",
                  "achieved_at")
ITEM_FIELDS = ("user_id", "quiz_iri", "question_iri", "registration", "success",
               "statement_id", "statement_seq", "voided")
EVIDENCE_FIELDS = ("user_id", "competency_id", "level", "weight", "source", "rule_id",
                   "statement_id", "statement_seq", "activity_iri", "occurred", "score",
                   "withdrawn", "withdrawn_by")


class _BulkInsert:
    """An INSERT of many rows (dicts keyed by ``columns``) as one statement; duplicates of
    a unique key are skipped, or with ``update_on`` (the key) written over.

    On PostgreSQL the rows travel as one array per column that the server unnests: one
    statement execution per batch instead of one per row, which is most of the cost of
    writing a batch. Elsewhere (SQLite, in process) an executemany.
    """

    def __init__(self, table: sa.Table, columns: tuple[str, ...], dialect: str,
                 update_on: tuple[str, ...] | None = None) -> None:
        self.columns = columns
        self.arrays = dialect == "postgresql"
        if self.arrays:
            from sqlalchemy.dialects import postgresql

            pg = postgresql.dialect()  # type: ignore[no-untyped-call]
            quote = pg.identifier_preparer.quote
            types = {c: re.sub(r"\(\d+\)", "", table.c[c].type.compile(dialect=pg))
                     for c in columns}
            sql = (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
                   "SELECT * FROM unnest("
                   + ", ".join(f"CAST(:{c} AS {types[c]}[])" for c in columns) + ")")
            if update_on:
                sql += (f" ON CONFLICT ({', '.join(map(quote, update_on))}) DO UPDATE SET "
                        + ", ".join(f"{quote(c)} = excluded.{quote(c)}"
                                    for c in columns if c not in update_on))
            else:
                sql += " ON CONFLICT DO NOTHING"
            self.statement: Any = sa.text(sql)
            return
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - Lentera runs on SQLite and PostgreSQL
            self.statement = table.insert()
            return
        statement = insert(table)
        self.statement = statement.on_conflict_do_update(
            index_elements=list(update_on),
            set_={c: statement.excluded[c] for c in columns if c not in update_on},
        ) if update_on else statement.on_conflict_do_nothing()

    def __call__(self, session: orm.Session, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.arrays:
            session.execute(self.statement, {c: [row[c] for row in rows]
                                             for c in self.columns})
        else:
            session.execute(self.statement, rows)


class _Entry:
    """A buffered statement, and for a voiding statement the id of the statement it voids.

    ``data`` is parsed on first use (see :class:`~lms.xapi.consumers.StoredStatement`): the
    engine decides from ``activity_id`` and ``verb_id`` whether it needs it at all.
    """

    __slots__ = ("statement", "voided_id")

    def __init__(self, statement: StoredStatement, voided_id: str | None = None) -> None:
        self.statement = statement
        self.voided_id = voided_id

    seq = property(lambda self: self.statement.seq)
    id = property(lambda self: self.statement.id)
    stored = property(lambda self: self.statement.stored)
    voided = property(lambda self: self.statement.voided)
    verb_id = property(lambda self: self.statement.verb_id)
    activity_id = property(lambda self: self.statement.activity_id)
    data = property(lambda self: self.statement.data)


@dataclass
class _Batch:
    """Work collected while processing one batch."""

    evidence: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    #: Ids of the statements whose evidence or item results are not written yet.
    unwritten: set[str] = field(default_factory=set)
    touched: set[tuple[int, int]] = field(default_factory=set)
    #: (user, quiz) -> stored item results, read once per batch; None: query each time.
    answers_cache: dict[tuple[int, str], list[Any]] | None = None
    #: voided statement id -> id of the statement that voided it, read once per batch.
    voiding: dict[str, str | None] = field(default_factory=dict)
    #: (user, quiz) -> this batch's item results (written or not), for quick lookup.
    items_by_quiz: dict[tuple[int, str], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list))


class ProfileEngine:
    """Turns statements into evidence and profiles. One instance per app; state kept
    between batches is only caches of configuration (rules, policies)."""

    def __init__(self) -> None:
        self._rules: RuleIndex | None = None
        self._competencies: dict[int, tuple[str, str, int]] = {}  # id -> (code, iri, fw)
        self._competency_iris: set[str] = set()
        self._policies: dict[int, dict[str, Any]] = {}
        self._raw_policies: dict[int, Any] = {}
        self._marker: tuple[Any, ...] | None = None
        self._q: _Queries | None = None
        #: Set during ``lms profiles rebuild``: do not announce levels again.
        self.quiet = False

    @property
    def q(self) -> _Queries:
        if self._q is None:
            self._q = _Queries(get_session().get_bind().dialect.name)
        return self._q

    # --- configuration caches -----------------------------------------------------------

    def load_configuration(self, session: orm.Session) -> RuleIndex:
        """Rules, competencies and policies: one small query per batch, and a reload only
        when something changed (rule and competency rows are only ever added, so their
        highest id and count tell; policies are few and compared as they are)."""
        rows = session.execute(self.q.configuration).all()
        marker = tuple(rows[0][2:]) if rows else (None, 0, None, 0)
        policies = {row[0]: row[1] for row in rows}
        if self._rules is None or self._marker != marker:
            versions = session.scalars(sa.select(EvidenceRule)).all()
            self._rules = RuleIndex([RuleVersion.from_row(r) for r in versions], marker)
            self._competencies = {
                row.id: (row.code, row.iri, row.framework_id)
                for row in session.execute(
                    sa.select(Competency.id, Competency.code, Competency.iri,
                              Competency.framework_id))}
            self._competency_iris = {iri for _c, iri, _f in self._competencies.values()}
            self._marker = marker
        if policies != self._raw_policies:
            self._policies = {k: normalize_policy(v) for k, v in policies.items()}
            self._raw_policies = policies
        return self._rules

    def forget_configuration(self) -> None:
        self._rules = None
        self._raw_policies = {}

    def policy_for(self, competency_id: int) -> dict[str, Any]:
        framework_id = self._competencies.get(competency_id, ("", "", 0))[2]
        return self._policies.get(framework_id) or normalize_policy(None)

    # --- processing -------------------------------------------------------------------

    def process(self, entries: list[_Entry]) -> None:
        """Handle ``entries`` (in stored order) inside the current transaction."""
        if not entries:
            return
        session = get_session()
        rules = self.load_configuration(session)
        batch = _Batch()
        users = self._resolve_users(session, entries, rules) if rules else {}
        if rules:
            self._prefetch_voiding(session, entries, batch)
            self._prefetch_answers(session, rules, users, entries, batch)
        for index, entry in enumerate(entries):
            if entry.voided_id is not None:
                if self._withdraw(session, entry.voided_id, entry.id, batch) and rules:
                    # A quiz answer was withdrawn and everything so far is written: read
                    # the answers afresh, once.
                    batch.items_by_quiz = defaultdict(list)
                    self._prefetch_answers(session, rules, users, entries[index + 1:], batch)
                continue
            if rules and self._may_match(rules, entry):
                self._evaluate(session, rules, users, entry, batch)
        self._flush(session, batch)
        self.recompute(batch.touched)

    def _resolve_users(self, session: orm.Session, entries: list[_Entry],
                       rules: RuleIndex | None = None) -> dict[str, int]:
        """Actor key -> user id for the actors of ``entries`` that are employees (only of
        statements some rule may match, when ``rules`` is given)."""
        base = current_app.config["BASE_URL"]
        nips: dict[str, str] = {}
        ids: dict[str, int] = {}
        emails: dict[str, str] = {}
        sha1s: dict[str, str] = {}
        for entry in entries:
            if rules is not None and not self._may_match(rules, entry):
                continue
            actor = entry.data.get("actor")
            key = _actor_key(actor)
            if key is None or key in nips or key in ids or key in emails or key in sha1s:
                continue
            account = actor.get("account") if isinstance(actor, dict) else None
            if isinstance(account, dict):
                if str(account.get("homePage", "")).rstrip("/") != base:
                    continue
                name = str(account.get("name", ""))
                if name.startswith("user:") and name[5:].isdigit():
                    ids[key] = int(name[5:])
                elif name:
                    nips[key] = name
            elif isinstance(actor.get("mbox"), str) and actor["mbox"].lower().startswith(
                    "mailto:"):
                emails[key] = actor["mbox"][7:].strip().lower()
            elif isinstance(actor.get("mbox_sha1sum"), str):
                sha1s[key] = actor["mbox_sha1sum"].lower()
        found: dict[str, int] = {}
        if nips:
            by_nip = dict(session.execute(self.q.users_by_nip,
                                          {"v": sorted(set(nips.values()))}).all())
            found.update({k: by_nip[n] for k, n in nips.items() if n in by_nip})
        if ids:
            known = set(session.scalars(self.q.users_by_id, {"v": sorted(set(ids.values()))}))
            found.update({k: i for k, i in ids.items() if i in known})
        if emails:
            by_email = dict(session.execute(self.q.users_by_email,
                                            {"v": sorted(set(emails.values()))}).all())
            found.update({k: by_email[e] for k, e in emails.items() if e in by_email})
        if sha1s:
            # A hash can only be matched by hashing every address (one row per employee).
            by_hash = {hashlib.sha1(f"mailto:{email}".encode()).hexdigest(): user_id
                       for email, user_id in session.execute(
                           sa.select(User.email, User.id).where(User.email.is_not(None)))}
            found.update({k: by_hash[h] for k, h in sha1s.items() if h in by_hash})
        return found

    @staticmethod
    def _may_match(rules: RuleIndex, entry: _Entry) -> bool:
        """Whether some rule may judge ``entry``, from its indexed columns alone (the
        object's id when it is an Activity): most statements need no more than this."""
        if entry.voided_id is not None:
            return False
        activity = entry.activity_id
        if not isinstance(activity, str):
            return False
        return bool(activity in rules.question_quizzes or rules.candidates(activity))

    def _evaluate(self, session: orm.Session, rules: RuleIndex, users: dict[str, int],
                  entry: _Entry, batch: _Batch) -> None:
        data = entry.data
        obj = data.get("object")
        if not isinstance(obj, dict) or obj.get("objectType", "Activity") != "Activity":
            return
        activity = obj.get("id")
        if not isinstance(activity, str) or activity in self._competency_iris:
            return
        if outside_launch(data):
            return  # a launch credential (in the learner's browser) about another activity
        keys = rules.candidates(activity)
        verb = (data.get("verb") or {}).get("id")
        quizzes = rules.question_quizzes.get(activity) if verb == ANSWERED else None
        if not keys and not quizzes:
            return
        user_id = users.get(_actor_key(data.get("actor")) or "")
        if user_id is None:
            return
        context = data.get("context") or {}
        registration = str(context.get("registration") or "").lower()
        stored = _aware(entry.stored)
        withdrawn_by = None
        if entry.voided:
            if entry.id not in batch.voiding:
                batch.voiding[entry.id] = self._voiding_of(session, entry.id)
            withdrawn_by = batch.voiding[entry.id]
        if quizzes:
            parent_list = (context.get("contextActivities") or {}).get("parent")
            parents = {p.get("id") for p in parent_list if isinstance(p, dict)} if isinstance(
                parent_list, list) else set()
            # The quiz named as parent; a question listed by one quiz only needs no parent.
            quiz = min(quizzes & parents) if quizzes & parents else (
                min(quizzes) if len(quizzes) == 1 else None)
            if quiz is not None:
                item = {
                    "user_id": user_id, "quiz_iri": quiz, "question_iri": activity,
                    "registration": registration,
                    "success": (data.get("result") or {}).get("success") is True,
                    "statement_id": entry.id, "statement_seq": entry.seq,
                    "voided": entry.voided,
                }
                batch.items.append(item)
                batch.items_by_quiz[(user_id, quiz)].append(item)
                batch.unwritten.add(entry.id)
        # Dated as every consumer dates learning (never after it was stored).
        occurred = statement_time(data.get("timestamp"), stored)
        for key in keys:
            rule = rules.version_for(key, stored)
            if rule is None or not rule.active:
                continue
            if rule.criterion == Criterion.ITEMS:
                if verb not in QUIZ_RESULT_VERBS:
                    continue
                answers = self._answers(session, batch, user_id, rule.activity_iri,
                                        registration, entry.seq)
                outcome: tuple[int, float | None] | None = items_level(rule, answers)
            else:
                outcome = judge(rule, data)
            if outcome is None:
                continue
            level, score = outcome
            batch.evidence.append({
                "user_id": user_id, "competency_id": rule.competency_id, "level": level,
                "weight": rule.weight, "source": rule.source, "rule_id": rule.id,
                "statement_id": entry.id, "statement_seq": entry.seq,
                "activity_iri": activity[:2048], "occurred": occurred,
                "score": None if score is None else round(score, 6),
                "withdrawn": entry.voided, "withdrawn_by": withdrawn_by,
            })
            batch.unwritten.add(entry.id)
            batch.touched.add((user_id, rule.competency_id))

    def _prefetch_answers(self, session: orm.Session, rules: RuleIndex,
                          users: dict[str, int], entries: list[_Entry], batch: _Batch) -> None:
        """Read, in one query, the stored item results every quiz result of the batch
        may need."""
        pairs = set()
        registrations = set()
        for entry in entries:
            if entry.voided_id is not None or entry.verb_id not in QUIZ_RESULT_VERBS:
                continue
            activity = entry.activity_id
            keys = rules.candidates(activity) if isinstance(activity, str) else []
            if not any(v.criterion == Criterion.ITEMS for k in keys
                       for v in rules.by_key[k]):
                continue
            data = entry.data
            user_id = users.get(_actor_key(data.get("actor")) or "")
            if user_id is not None:
                pairs.add((user_id, activity))
                registrations.add(str((data.get("context") or {}).get("registration")
                                      or "").lower())
        if not pairs:
            return
        cache: dict[tuple[int, str], list[Any]] = {pair: [] for pair in pairs}
        rows = session.execute(self.q.item_results, {
            "users": sorted({u for u, _q in pairs}), "quizzes": sorted({q for _u, q in pairs}),
            "registrations": sorted(registrations)})
        for row in rows:
            key = (row.user_id, row.quiz_iri)
            if key in cache:
                cache[key].append((row.registration, row.question_iri, row.success,
                                   row.statement_seq))
        batch.answers_cache = cache

    def _answers(self, session: orm.Session, batch: _Batch, user_id: int, quiz: str,
                 registration: str, before_seq: int) -> dict[str, bool]:
        """The latest answer to each question of ``quiz`` before ``before_seq``, in the
        same registration (retakes overwrite earlier answers), voided ones left out."""
        answers: dict[str, tuple[int, bool]] = {}
        cached = (batch.answers_cache or {}).get((user_id, quiz))
        if cached is not None:
            rows: list[Any] = [(q, ok, seq) for reg, q, ok, seq in cached
                               if reg == registration and seq < before_seq]
            mine = batch.items_by_quiz.get((user_id, quiz), [])
        else:
            rows = list(session.execute(
                sa.select(QuizItemResult.question_iri, QuizItemResult.success,
                          QuizItemResult.statement_seq)
                .where(QuizItemResult.user_id == user_id, QuizItemResult.quiz_iri == quiz,
                       QuizItemResult.registration == registration,
                       QuizItemResult.statement_seq < before_seq,
                       QuizItemResult.voided.is_(False))).all())
            # Written items are in the query's result; add those not written yet.
            mine = [r for r in batch.items if r["user_id"] == user_id and r["quiz_iri"] == quiz]
        pending = [(r["question_iri"], r["success"], r["statement_seq"]) for r in mine
                   if r["registration"] == registration and r["statement_seq"] < before_seq
                   and not r["voided"]]
        for question, success, seq in [*rows, *pending]:
            if question not in answers or answers[question][0] < seq:
                answers[question] = (seq, bool(success))
        return {q: ok for q, (_s, ok) in answers.items()}

    def _prefetch_voiding(self, session: orm.Session, entries: list[_Entry],
                          batch: _Batch) -> None:
        """Who voided each voided statement of the batch, in one query (a replay meets
        voided statements before their voiding statements)."""
        from lms.xapi.models import Statement

        ids = sorted({e.id for e in entries if e.voided and e.voided_id is None})
        if not ids:
            return
        found: dict[str, str | None] = dict.fromkeys(ids)
        for ref_id, statement_id in session.execute(
                sa.select(Statement.ref_id, Statement.statement_id).where(
                    Statement.ref_id.in_(ids), Statement.verb_id == VOIDED)
                .order_by(Statement.seq)):
            if ref_id is not None and found.get(ref_id) is None:
                found[ref_id] = statement_id
        batch.voiding.update(found)

    def _voiding_of(self, session: orm.Session, statement_id: str) -> str | None:
        """The id of the statement that voided ``statement_id`` (a replay meets the voided
        statement before its voiding statement; the evidence must look the same)."""
        from lms.xapi.models import Statement

        return session.scalar(sa.select(Statement.statement_id).where(
            Statement.ref_id == statement_id, Statement.verb_id == VOIDED)
            .order_by(Statement.seq).limit(1))

    def _flush(self, session: orm.Session, batch: _Batch) -> None:
        self.q.insert_items(session, batch.items)
        self.q.insert_evidence(session, batch.evidence)
        batch.items = []
        batch.evidence = []
        batch.unwritten.clear()

    def _withdraw(self, session: orm.Session, voided_id: str, voiding_id: str,
                  batch: _Batch) -> bool:
        """Withdraw what ``voided_id`` proved; re-judge quiz results that used its answer.
        Returns whether a quiz answer was withdrawn (the item results changed)."""
        if voided_id in batch.unwritten:
            self._flush(session, batch)  # voided in the batch that brought it: write it first
        params = {"voided_id": voided_id, "voiding_id": voiding_id}
        batch.touched.update(
            (u, c) for u, c in session.execute(self.q.withdraw_evidence, params))
        item = session.execute(self.q.void_item, params).first()
        if item is None:
            return False
        # Quiz results after the answer, in the same attempt, were judged with it.
        from lms.xapi.models import Statement, by_statement_id

        self._flush(session, batch)
        batch.answers_cache = None  # item results changed: read them afresh
        batch.items_by_quiz = defaultdict(list)
        later = session.execute(
            sa.select(Evidence.statement_id).join(EvidenceRule, EvidenceRule.id == Evidence.rule_id)
            .where(Evidence.user_id == item.user_id, Evidence.statement_seq > item.statement_seq,
                   EvidenceRule.criterion == Criterion.ITEMS,
                   EvidenceRule.activity_iri == item.quiz_iri)).scalars().all()
        seqs = session.scalars(by_statement_id(sa.select(Statement.seq), sorted(set(later)))
                               ).all() if later else []
        if seqs:
            self.reprocess(sorted(set(seqs)), batch=batch)
        return True

    # --- reprocessing (rule changes, voided answers) -------------------------------------

    def reprocess(self, seqs: list[int], batch: _Batch | None = None) -> None:
        """Judge already-handled statements again: delete what they produced and process
        them anew (in stored order) with the rules as they are now."""
        from lms.xapi.models import Statement

        if not seqs:
            return
        session = get_session()
        own = batch is None
        batch = batch or _Batch()
        batch.answers_cache = None
        batch.items_by_quiz = defaultdict(list)
        for start in range(0, len(seqs), 500):
            chunk = seqs[start:start + 500]
            rows = session.execute(
                sa.select(Statement.seq, Statement.statement_id, Statement.data,
                          Statement.stored, Statement.voided, Statement.verb_id)
                .where(Statement.seq.in_(chunk)).order_by(Statement.seq)).all()
            ids = [r.statement_id for r in rows if r.verb_id != VOIDED]
            old = session.execute(sa.select(Evidence.user_id, Evidence.competency_id)
                                  .where(Evidence.statement_id.in_(ids))).all()
            batch.touched.update((u, c) for u, c in old)
            session.execute(sa.delete(Evidence).where(Evidence.statement_id.in_(ids)))
            session.execute(sa.delete(QuizItemResult)
                            .where(QuizItemResult.statement_id.in_(ids)))
            entries = [_Entry(StoredStatement(seq=r.seq, id=r.statement_id, data=r.data,
                                              stored=r.stored, voided=r.voided))
                       for r in rows if r.verb_id != VOIDED]
            rules = self.load_configuration(session)
            users = self._resolve_users(session, entries, rules)
            for entry in entries:
                if self._may_match(rules, entry):
                    self._evaluate(session, rules, users, entry, batch)
            self._flush(session, batch)
        if own:
            self.recompute(batch.touched)

    def reprocess_activity(self, patterns: list[tuple[str, str]]) -> int:
        """Re-judge every handled statement that mentions an activity matching one of
        ``patterns`` ((match, iri) pairs): what a new or retroactive rule needs."""
        from lms.xapi.models import ConsumerCursor, StatementActivity

        session = get_session()
        self.forget_configuration()
        cursor = session.get(ConsumerCursor, CONSUMER_NAME)
        if cursor is None or not cursor.last_seq:
            return 0
        conditions: list[sa.ColumnElement[bool]] = []
        for match, iri in set(patterns):
            if match == "prefix":
                escaped = iri.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                conditions.append(StatementActivity.activity_id.like(escaped + "%", escape="\\"))
            else:
                conditions.append(StatementActivity.activity_id == iri)
        if not conditions:
            return 0
        seqs = sorted(set(session.scalars(
            sa.select(StatementActivity.seq).where(sa.or_(*conditions),
                                                   StatementActivity.seq <= cursor.last_seq))))
        try:
            self.reprocess(seqs)
        finally:
            # The caches now hold this transaction's uncommitted rules: drop them.
            self.forget_configuration()
        return len(seqs)

    def reprocess_actor_keys(self, keys: list[str]) -> int:
        """Judge again the handled statements of these actors (LRS actor keys): what a
        person who joins Lentera after their statements arrived needs."""
        from lms.xapi.models import ConsumerCursor, Statement

        session = get_session()
        cursor = session.get(ConsumerCursor, CONSUMER_NAME)
        if cursor is None or not cursor.last_seq or not keys:
            return 0
        seqs = sorted(set(session.scalars(sa.select(Statement.seq).where(
            Statement.actor_key.in_(keys), Statement.seq <= cursor.last_seq))))
        try:
            self.reprocess(seqs)
        finally:
            self.forget_configuration()
        return len(seqs)

    # --- profiles ---------------------------------------------------------------------

    def recompute(self, pairs: set[tuple[int, int]]) -> list[tuple[int, int, int]]:
        """Recompute the profile rows of ``pairs`` (user id, competency id) from their
        active evidence; return (user, competency, new level) for each level reached."""
        if not pairs:
            return []
        session = get_session()
        if not self._competencies:
            self.load_configuration(session)
        reached: list[tuple[int, int, int]] = []
        lost: list[str] = []
        pairs_list = sorted(pairs)
        for start in range(0, len(pairs_list), 400):
            chunk = pairs_list[start:start + 400]
            reached += self._recompute_chunk(session, chunk, lost)
        if not self.quiet and current_app.config.get("COMPETENCY_EMIT_STATEMENTS", True):
            if lost:
                self._void_announcements(session, lost)
            if reached:
                self._announce(session, reached)
        return reached

    def _recompute_chunk(self, session: orm.Session, chunk: list[tuple[int, int]],
                         lost: list[str]) -> list[tuple[int, int, int]]:
        wanted = set(chunk)
        user_ids = {u for u, _c in chunk}
        competency_ids = {c for _u, c in chunk}
        evidence: dict[tuple[int, int], list[EvidenceItem]] = defaultdict(list)
        params = {"users": sorted(user_ids), "competencies": sorted(competency_ids)}
        for ev in session.execute(self.q.active_evidence, params):
            pair = (ev.user_id, ev.competency_id)
            if pair in wanted:
                evidence[pair].append(EvidenceItem(
                    level=ev.level, weight=ev.weight, source=str(ev.source),
                    seq=ev.statement_seq, occurred=_aware(ev.occurred),
                    statement_id=ev.statement_id))
        existing: dict[tuple[int, int], Any] = {(r.user_id, r.competency_id): r
                    for r in session.execute(self.q.profiles, params)
                    if (r.user_id, r.competency_id) in wanted}
        writes: list[dict[str, Any]] = []
        reached = []
        for pair in chunk:
            items = evidence.get(pair, [])
            # Ties in the policy are broken by statement order; ids differ between runs.
            outcome = aggregate(items, self.policy_for(pair[1]))
            row = existing.get(pair)
            values = {
                "level": outcome.level, "progress": outcome.progress,
                "evidence_count": len(items),
                "achieved_statement_id": outcome.decisive.statement_id if outcome.decisive
                else None,
                "achieved_at": outcome.decisive.occurred if outcome.decisive else None,
            }
            old_level = row.level if row is not None else 0
            if row is not None and row.level > 0 and (
                    outcome.level < row.level or not items) and row.achieved_statement_id:
                lost.append(self.announcement_id(pair[0], pair[1], row.level,
                                                 row.achieved_statement_id))
            if not items:
                if row is not None:
                    session.execute(sa.delete(UserCompetency).where(
                        UserCompetency.user_id == pair[0],
                        UserCompetency.competency_id == pair[1]))
                continue
            if row is None or any(getattr(row, name) != value
                                  for name, value in values.items()):
                writes.append({"user_id": pair[0], "competency_id": pair[1], **values})
            if outcome.level > old_level:
                reached.append((pair[0], pair[1], outcome.level))
        self.q.write_profiles(session, writes)
        return reached

    def announcement_id(self, user_id: int, competency_id: int, level: int,
                        achieved_statement_id: str) -> str:
        """The id of the statement announcing a level (deterministic)."""
        iri = self._competencies[competency_id][1]
        return str(uuid.uuid5(EMIT_NAMESPACE, f"{user_id}|{iri}|{level}|{achieved_statement_id}"))

    def _void_announcements(self, session: orm.Session, ids: list[str]) -> None:
        """Void the announcements of levels that were taken back."""
        from lms.xapi.models import Statement, by_statement_id
        from lms.xapi.service import lentera_authority, store_statements

        live = set(session.scalars(by_statement_id(
            sa.select(Statement.statement_id).where(Statement.voided.is_(False)), ids)))
        authority = lentera_authority()
        statements = [{
            "id": str(uuid.uuid5(EMIT_NAMESPACE, f"void|{statement_id}")),
            "actor": authority,
            "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": statement_id},
        } for statement_id in ids if statement_id in live]
        if statements:
            store_statements(statements, authority)

    def _announce(self, session: orm.Session, reached: list[tuple[int, int, int]]) -> None:
        """Store a ``mastered`` statement for each level reached, so other systems (and
        the national HR system) learn of it. Ids are derived from the employee, the
        competency, the level and the decisive statement: announcing twice is a no-op."""
        from lms.xapi.actors import actor_for
        from lms.xapi.models import StatementId
        from lms.xapi.service import lentera_authority, store_statements

        users = {u.id: u for u in session.scalars(
            sa.select(User).where(User.id.in_({u for u, _c, _l in reached})))}
        profile = {(r.user_id, r.competency_id): r for r in session.scalars(
            sa.select(UserCompetency).where(
                UserCompetency.user_id.in_(set(users)),
                UserCompetency.competency_id.in_({c for _u, c, _l in reached})))}
        statements = []
        for user_id, competency_id, level in reached:
            user = users.get(user_id)
            row = profile.get((user_id, competency_id))
            if user is None or row is None or not row.achieved_statement_id:
                continue
            code, iri, _fw = self._competencies[competency_id]
            statement_id = self.announcement_id(user_id, competency_id, level,
                                                row.achieved_statement_id)
            statements.append({
                "id": statement_id,
                "actor": actor_for(user),
                "verb": {"id": MASTERED, "display": {"en-US": "mastered",
                                                     "id-ID": "menguasai"}},
                "object": {"objectType": "Activity", "id": iri, "definition": {
                    "type": COMPETENCY_TYPE, "name": {"id-ID": code}}},
                "result": {"success": True, "score": {"scaled": level / 5, "raw": level,
                                                      "min": 0, "max": 5},
                           "extensions": {level_extension(): level}},
                "context": {"statement": {"objectType": "StatementRef",
                                          "id": row.achieved_statement_id}},
                "timestamp": row.achieved_at.isoformat().replace("+00:00", "Z")
                if row.achieved_at else None,
            })
        for statement in statements:
            if statement["timestamp"] is None:
                del statement["timestamp"]
        if not statements:
            return
        have = set(session.scalars(sa.select(StatementId.statement_id).where(
            StatementId.statement_id.in_([s["id"] for s in statements]))))
        new = [s for s in statements if s["id"] not in have]
        if new:
            store_statements(new, lentera_authority())

    # --- reset ------------------------------------------------------------------------

    def reset(self) -> None:
        """Delete everything derived (evidence, item results, profiles)."""
        session = get_session()
        tables = [_table(UserCompetency), _table(Evidence), _table(QuizItemResult)]
        if not (session.get_bind().dialect.name == "postgresql" and _truncate(session, tables)):
            for table in tables:
                session.execute(sa.delete(table))
        self.forget_configuration()


#: Why TRUNCATE may be refused: lock_not_available, insufficient_privilege.
_CANNOT_TRUNCATE = {"55P03", "42501"}


def _truncate(session: orm.Session, tables: list[sa.Table]) -> bool:
    """Empty ``tables`` with TRUNCATE (PostgreSQL): much faster than deleting row by row,
    and it leaves no dead rows for a replay's writes and lookups to wade through. It needs
    the tables to itself: when others (this process's other transactions, too) still
    read them after a moment, or the database user may not truncate, returns False and
    leaves deleting to the caller."""
    try:
        with session.begin_nested():
            session.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
            session.execute(sa.text("TRUNCATE " + ", ".join(t.name for t in tables)))
            session.execute(sa.text("SET LOCAL lock_timeout = DEFAULT"))
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _CANNOT_TRUNCATE:
            raise
        return False
    return True


def _actor_key(actor: Any) -> str | None:
    """The key of an Agent actor (:func:`agent_key`); None for Groups, which no
    employee's profile counts."""
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    return agent_key(actor)


# --- the consumer -------------------------------------------------------------------------

class CompetencyConsumer(StatementConsumer):
    """The profile engine as a statement consumer (name ``competency``): the runner
    hands it each batch whole (voiding statements included, in stored order). The
    ``mastered`` statements it stores are derived statements (see
    :func:`lms.xapi.consumers.run_consumers`)."""

    name = CONSUMER_NAME
    shares_statements = True  # reads statements, never changes them

    def __init__(self, engine: ProfileEngine):
        self.engine = engine

    def handle_batch(self, statements: list[StoredStatement]) -> None:
        self.engine.process([
            _Entry(s, s.voided_id if s.verb_id == VOIDED else None)
            for s in statements])

    def reset(self) -> None:
        self.engine.reset()


def get_engine() -> ProfileEngine:
    """The app's profile engine."""
    return cast("ProfileEngine", current_app.extensions["lms.competency.engine"])
