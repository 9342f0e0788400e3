"""People erased at the end of their purpose (docs/personal-data.md, "Retention"), on a real
PostgreSQL of its own: who is erased and who is kept, what an erasure leaves (counts, statuses,
the audit trail) and what it takes (every personal column, the look-up hash, the form, the
invitation's secrets, a renewal's card certificate), and two replicas sharing the work."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from esign import migrations
from esign.db import make_engine, make_session_factory
from esign.events import PersonErased
from services.applications.adapters import orm
from services.applications.adapters.orm import messaging
from services.applications.adapters.repositories.people_columns import PersonRecord
from services.applications.adapters.uow import ApplicationsUnitOfWork
from services.applications.app import DEFINITION
from services.applications.domain.people_retention import PeopleRetention
from services.applications.handlers.people_retention import JOB, erase_people_past_their_purpose
from tests.services.applications.test_personal_data_at_rest import CODEC
from tests.support.applications import make_tckn

ERASED = PersonErased.type
RULES = PeopleRetention(without_certificate=timedelta(days=180), after_certificate=timedelta(days=365))
# Two years on: every row made now is older than both periods unless a test dates it otherwise.
NOW = datetime.now(UTC) + timedelta(days=730)


@dataclass
class FixedClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def today(self) -> date:
        return self.moment.date()


@dataclass
class Case:
    """A person and their applications: ``(status, days since its last change or, with a
    certificate, since the certificate's end; invitation expiry days ago or None)``."""

    name: str
    applications: list[tuple[str, float, float | None, bool]]
    erased: bool
    n: int = 0
    person_id: uuid.UUID = field(default_factory=uuid.uuid4)
    application_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def tckn(self) -> str:
        return make_tckn(8000 + self.n)

    @property
    def email(self) -> str:
        return f"{self.name.lower()}@ornek.edu.tr"


# (status, days ago, invitation expired days ago, has a certificate)
CASES = [
    Case("Reddedilen", [("rejected", 200, 230, False)], erased=True),
    Case("Yenireddedilen", [("rejected", 10, 230, False)], erased=False),  # may still correct and re-sign
    Case("Vazgecen", [("withdrawn", 181, 300, False)], erased=True),
    Case("Doldurmayan", [("invited", 400, 200, False)], erased=True),  # its invitation ran out long ago
    Case("Yenidavetli", [("invited", 400, 10, False)], erased=False),  # re-issued: a fresh invitation
    Case("Bekleyen", [("invited", 400, None, False)], erased=False),  # invitation not issued yet
    Case("Kagitbekleyen", [("form_completed", 900, 700, False)], erased=False),  # waits for the officer
    Case("Yolda", [("forwarded", 900, 700, False)], erased=False),  # at the CA
    Case("Eskisertifikali", [("delivered", 400, 800, True)], erased=True),  # its certificate ended > 365 days ago
    Case("Sertifikali", [("delivered", 100, 800, True)], erased=False),  # within a year of its end
    Case("Yenilenen", [("delivered", 400, 800, True), ("delivered", -300, None, True)], erased=False),
    Case("Yenilemeyen", [("delivered", 400, 800, True), ("expired", 200, None, False)], erased=True),
]
for n, case in enumerate(CASES):
    case.n = n


@pytest.fixture
async def sessions(postgres):
    url = postgres.ensure_database(f"esign_applications_people_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(migrations.upgrade, DEFINITION.migrations_dir, url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    await engine.dispose()


def uow(sessions) -> ApplicationsUnitOfWork:
    return ApplicationsUnitOfWork(sessions, messaging, "applications", codec=CODEC)


async def store(sessions, institution: uuid.UUID) -> None:
    for c in CASES:
        c.application_ids.clear()
    async with uow(sessions) as u:
        await u.session.execute(sa.insert(orm.institutions).values(id=institution, name="Kapanan Üniversite"))
        await u.people.add_many(
            [
                PersonRecord(
                    id=c.person_id,
                    institution_id=institution,
                    tckn=c.tckn,
                    first_name="Zeynep",
                    last_name=c.name,
                    birth_date=date(1980, 1, 1 + c.n),
                    birth_place="Erzurum",
                    title="Uzman",
                    unit="BİDB",
                    email=c.email,
                    mobile=f"+9053212345{c.n:02d}",
                )
                for c in CASES
            ]
        )
        for c in CASES:
            first: uuid.UUID | None = None
            for status, days, invitation_days, certified in c.applications:
                app_id = uuid.uuid4()
                c.application_ids.append(app_id)
                moment = NOW - timedelta(days=days)
                renewal = status == "expired" or (first is not None and certified)
                await u.session.execute(
                    sa.insert(orm.applications).values(
                        id=app_id,
                        institution_id=institution,
                        person_id=c.person_id,
                        status=status,
                        form={
                            "mobile": "+905321112233",
                            "delivery_address": {
                                "line1": f"{c.name} Sok. 5",
                                "district": "Yakutiye",
                                "city": "Erzurum",
                                "postal_code": "25100",
                            },
                        },
                        security_word_hash="argon2-hash",
                        certificate={
                            "serial": f"7F{c.n:02d}",
                            "not_before": (moment - timedelta(days=1095)).isoformat(),
                            "not_after": moment.isoformat(),
                            "card_type": "akis",
                        }
                        if certified
                        else None,
                        kind="renewal" if renewal else "first",
                        renews_application_id=first if renewal else None,
                        updated_at=moment,
                    )
                )
                await u.session.execute(
                    sa.insert(orm.transitions).values(
                        application_id=app_id,
                        from_status="invited",
                        to_status=status,
                        actor_role="system",
                        actor_subject="test",
                        at=moment,
                    )
                )
                if invitation_days is not None or status == "invited":
                    await u.session.execute(
                        sa.insert(orm.invitations).values(
                            id=uuid.uuid4(),
                            application_id=app_id,
                            state="issued" if invitation_days is not None else "pending",
                            token_hash=f"token-{app_id}",
                            password_hash="pbkdf2-hash",
                            expires_at=None if invitation_days is None else NOW - timedelta(days=invitation_days),
                        )
                    )
                if renewal:
                    await u.session.execute(
                        sa.insert(orm.renewals).values(
                            application_id=app_id,
                            renewed_application_id=first,
                            certificate_der=b"DER naming " + c.name.encode(),
                            certificate_fingerprint="ab" * 32,
                            old_serial="7F",
                            old_not_after=NOW - timedelta(days=400),
                            signed_pdf=b"%PDF signed by " + c.name.encode(),
                            form_token_hash=f"form-{app_id}",
                        )
                    )
                    await u.session.execute(
                        sa.insert(orm.renewal_preparations).values(
                            id=uuid.uuid4(),
                            renewal_id=app_id,
                            certificate_fingerprint="ab" * 32,
                            mechanism="rsa",
                            signed_attributes=b"attrs",
                            state={},
                            pdf=b"%PDF of " + c.name.encode(),
                            expires_at=NOW,
                        )
                    )
                first = first or app_id
        await u.commit()


async def rows(sessions, sql: str, **params) -> list[sa.Row]:
    async with sessions() as s:
        return list((await s.execute(sa.text(sql), params)).all())


def erased_total() -> float:
    return REGISTRY.get_sample_value("esign_retention_rows_total", {"job": JOB}) or 0.0


async def test_people_past_their_purpose_are_erased_once_and_their_history_stays(sessions):
    institution = uuid.uuid4()
    await store(sessions, institution)
    async with uow(sessions) as u:
        counts_before = await u.applications.counts_by_status(institution)
    before = erased_total()

    async def one_pass() -> int:
        async with uow(sessions) as u:
            return await erase_people_past_their_purpose(u, clock=FixedClock(NOW), rules=RULES, batch_size=2)

    # Two replicas at once, then until a pass finds no full batch.
    await asyncio.gather(one_pass(), one_pass())
    while await one_pass():
        pass
    await one_pass()

    erased = [c for c in CASES if c.erased]
    assert erased_total() - before == len(erased)  # each erased once
    people = {r.id: r for r in await rows(sessions, "SELECT p.*, p::text AS whole FROM people p")}
    assert {c.name for c in CASES if people[c.person_id].erased_at is not None} == {c.name for c in erased}

    for c in CASES:
        person = people[c.person_id]
        apps = await rows(
            sessions, "SELECT a.*, a::text AS whole FROM applications a WHERE person_id = :p", p=c.person_id
        )
        invitations = await rows(
            sessions,
            "SELECT i.* FROM invitations i JOIN applications a ON a.id = i.application_id WHERE a.person_id = :p",
            p=c.person_id,
        )
        renewals = await rows(
            sessions,
            "SELECT r.*, r::text AS whole FROM renewals r JOIN applications a ON a.id = r.application_id "
            "WHERE a.person_id = :p",
            p=c.person_id,
        )
        preparations = await rows(
            sessions,
            "SELECT * FROM renewal_preparations WHERE renewal_id = ANY(:ids)",
            ids=c.application_ids,
        )
        transitions = await rows(
            sessions, "SELECT * FROM transitions WHERE application_id = ANY(:ids)", ids=c.application_ids
        )
        assert len(transitions) == len(c.applications)  # the audit trail stays either way
        assert sorted(a.status for a in apps) == sorted(s for s, *_ in c.applications)
        if c.erased:
            for column in (
                "tckn_encrypted",
                "tckn_hash",
                "birth_date_encrypted",
                "birth_place_encrypted",
                "first_name",
                "last_name",
                "title",
                "unit",
                "email",
                "mobile",
            ):
                assert getattr(person, column) is None, (c.name, column)
            assert c.name not in person.whole and "Zeynep" not in person.whole and "Erzurum" not in person.whole
            assert all(a.form == {} and a.security_word_hash is None for a in apps)
            assert not any(c.name in a.whole or "+90532" in a.whole for a in apps)
            assert all(i.token_hash is None and i.password_hash is None for i in invitations)
            assert all(r.certificate_der is None and r.signed_pdf is None for r in renewals)
            assert not any(c.name in r.whole for r in renewals) and preparations == []
        else:
            assert person.erased_at is None
            async with uow(sessions) as u:
                kept = await u.people.get(c.person_id)
            assert (kept.tckn, kept.last_name, kept.birth_place) == (c.tckn, c.name, "Erzurum")
            assert all(a.form and a.security_word_hash for a in apps)
            assert all(i.token_hash is not None for i in invitations)
            assert all(r.certificate_der is not None for r in renewals)

    # One applications.person.erased per erased person, written with the erasure, ids only.
    events = await rows(
        sessions, "SELECT id, envelope, envelope::text AS whole FROM outbox WHERE subject = :s", s=ERASED
    )
    assert sorted(str(e.envelope["data"]["person_id"]) for e in events) == sorted(str(c.person_id) for c in erased)
    for e in events:
        case = next(c for c in erased if str(c.person_id) == e.envelope["data"]["person_id"])
        assert sorted(e.envelope["data"]["application_ids"]) == sorted(map(str, case.application_ids))
        assert e.envelope["data"]["erased_at"] and set(e.envelope["data"]) == {
            "person_id",
            "application_ids",
            "erased_at",
        }
        assert case.name not in e.whole and case.email not in e.whole and "+90532" not in e.whole
        assert case.tckn not in e.whole and "Zeynep" not in e.whole
    # Another pass once everybody due is erased writes no second one.
    assert await one_pass() == 0
    assert len(await rows(sessions, "SELECT id FROM outbox WHERE subject = :s", s=ERASED)) == len(erased)

    async with uow(sessions) as u:
        # The counts stay; the erased are no longer shown, by list or by id.
        assert await u.applications.counts_by_status(institution) == counts_before
        page = await u.applications.list_views(
            institution_id=institution, statuses=None, form_not_filled=False, search=None, limit=100, offset=0
        )
        assert {v.person.last_name for v in page.items} == {c.name for c in CASES if not c.erased}
        assert page.total == sum(len(c.applications) for c in CASES if not c.erased)
        assert await u.applications.view(erased[0].application_ids[0]) is None
        assert await u.people.get(erased[0].person_id) is None  # nothing left to open
        # Without the look-up hash the same TC Kimlik No on a later staff list is a new person.
        assert await u.people.known_tckns(institution, [c.tckn for c in CASES]) == {
            c.tckn for c in CASES if not c.erased
        }


async def test_nobody_is_erased_before_the_periods_pass(sessions):
    institution = uuid.uuid4()
    await store(sessions, institution)
    generous = PeopleRetention(without_certificate=timedelta(days=5000), after_certificate=timedelta(days=5000))
    async with uow(sessions) as u:
        assert await erase_people_past_their_purpose(u, clock=FixedClock(NOW), rules=generous) == 0
    erased = await rows(
        sessions, "SELECT id FROM people WHERE institution_id = :i AND erased_at IS NOT NULL", i=institution
    )
    assert erased == []
    assert await rows(sessions, "SELECT id FROM outbox WHERE subject = :s", s=ERASED) == []  # nobody due: no event
