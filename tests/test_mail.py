"""E-mail through a real local SMTP server (aiosmtpd): content, language, reminders once."""
import email
import email.policy
import socket
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from sqlalchemy import func, select, update

from voortgang import mail
from voortgang.conversations import planning, points, signoff
from voortgang.database import utcnow, writing
from voortgang.extensions import db
from voortgang.models import OutgoingMail, User

from .servers import free_port
from .helpers import plan, planned


class Inbox:
    """A real SMTP server's received mail. Mail leaves the app after the commit, from its
    courier thread: every look at the inbox first waits until the outbox has nothing due."""

    def __init__(self, app):
        self.app = app
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def settle(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.app.app_context():
                busy = db.session.scalar(select(func.count()).select_from(OutgoingMail).where(
                    OutgoingMail.state.in_(("queued", "sending")), OutgoingMail.next_attempt_at <= utcnow()))
                db.session.rollback()
            if not busy:
                return
            assert time.monotonic() < deadline, f"{busy} message(s) still in the outbox"
            time.sleep(0.05)

    def all(self):  # a method: aiosmtpd looks at every attribute of its handler
        self.settle()
        return self.received

    def clear(self):
        self.settle()
        self.received.clear()

    def to(self, address):
        return [m for m in self.all() if address in m["To"]]

    def body(self, message):
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def inbox(app):
    handler = Inbox(app)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False,
                      SMTP_FROM="Voortgang <voortgang@example.org>", BASE_URL="https://voortgang.example.org")
    yield handler
    controller.stop()


def test_planning_mails_the_other_participant_in_their_language_with_calendar(app, team, login_as, inbox):
    response = plan(login_as(team.mia), team.eva)
    assert response.status_code == 303
    assert inbox.to("mia@example.org") == []  # the planner is not told what she did
    [message] = inbox.to("eva@example.org")
    assert message["Subject"] == "Voortgangsgesprek gepland met Mia"  # Eva reads Dutch
    body = inbox.body(message)
    assert "Hallo Eva," in body and "https://voortgang.example.org/conversations/" in body
    [attachment] = list(message.iter_attachments())
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert str(event["summary"]) == "Voortgangsgesprek: Eva en Mia"


def test_waiting_for_your_signature(app, team, login_as, inbox):
    mia, eva = login_as(team.mia), login_as(team.eva)
    cid = planned(mia, team.eva)
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    inbox.clear()
    mia.post(f"/conversations/{cid}/propose-close")
    [message] = inbox.all()
    assert "eva@example.org" in message["To"] and "handtekening" in message["Subject"]
    eva.post(f"/conversations/{cid}/sign")
    [reminder] = inbox.to("mia@example.org")
    assert reminder["Subject"] == "Your signature is needed on a progress conversation"
    mia.post(f"/conversations/{cid}/sign")
    assert len(inbox.all()) == 2  # completed: nobody left to ask


def test_without_smtp_nothing_is_sent_and_nothing_fails(app, team, login_as):
    assert not app.config.get("SMTP_HOST")
    assert plan(login_as(team.mia), team.eva).status_code == 303


def test_smtp_failure_never_breaks_the_request(app, team, login_as):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False, SMTP_TIMEOUT=2,
                      BASE_URL="https://voortgang.example.org")
    assert plan(login_as(team.mia), team.eva).status_code == 303


def outbox(app):
    with app.app_context():
        rows = [(m.kind, m.to_address, m.state, m.attempts) for m in
                db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id))]
        db.session.rollback()
        return rows


def wait_for(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def silent_smtp():
    """A mail server that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_mail_leaves_after_the_request_so_a_slow_mail_server_holds_up_nobody(app, team, client, silent_smtp):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=silent_smtp, SMTP_STARTTLS=False, SMTP_TIMEOUT=5,
                      BASE_URL="https://voortgang.example.org")
    timings = {}
    for address in ("eva@example.org", "nobody@example.org"):
        started = time.monotonic()
        assert client.post("/forgot-password", data={"email": address}).status_code == 303
        timings[address] = time.monotonic() - started
    # Sent inside the request, each known address would wait the 5 s SMTP timeout.
    assert max(timings.values()) < 1, timings
    wait_for(lambda: outbox(app)[0][2] == "sending")  # the courier is talking to the server
    [(kind, to, state, attempts)] = outbox(app)
    assert (kind, to, attempts) == ("password_link", "eva@example.org", 1)
    wait_for(lambda: outbox(app)[0][2] == "queued", timeout=15)  # timed out: back in the queue
    with app.app_context():
        row = db.session.scalars(select(OutgoingMail)).one()
        assert row.next_attempt_at > utcnow() + timedelta(seconds=30) and "timed out" in row.last_error


def test_failed_mail_is_retried_and_delivered_once(app, team, login_as, inbox):
    port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    assert plan(login_as(team.mia), team.eva).status_code == 303
    wait_for(lambda: outbox(app) and outbox(app)[0][3] == 1 and outbox(app)[0][2] == "queued")
    assert inbox.received == []
    app.config["SMTP_PORT"] = port
    with app.app_context():
        assert mail.deliver_due() == 0  # not due yet: it waits a minute after a failure
        with writing():
            db.session.execute(update(OutgoingMail).values(next_attempt_at=utcnow()))
        assert mail.deliver_due() == 1
        assert mail.deliver_due() == 0
    assert [m["Subject"] for m in inbox.to("eva@example.org")] == ["Voortgangsgesprek gepland met Mia"]
    assert [row[2:] for row in outbox(app)] == [("sent", 2)]


def test_mail_of_a_process_that_died_while_sending_is_not_sent_again(app, team, login_as, inbox):
    with app.app_context():  # as a process leaves it when it dies while the server is talking
        with writing():
            db.session.add(OutgoingMail(kind="password_link", user_id=team.eva.id, to_address="eva@example.org",
                                        message=b"Subject: x\r\n\r\nx\r\n", state="sending", attempts=1,
                                        claimed_at=utcnow() - timedelta(minutes=11)))
        assert mail.deliver_due() == 0
    assert inbox.received == []
    assert [row[2] for row in outbox(app)] == ["unknown"]


def test_mail_of_a_transaction_that_rolled_back_is_never_sent(app, team, inbox):
    with app.app_context():
        eva = db.session.get(User, team.eva.id)
        assert mail.password_link(eva, "https://voortgang.example.org/password/x", invitation=False)
        db.session.rollback()
    assert outbox(app) == [] and inbox.all() == []


def test_remind_sends_each_reminder_once(app, team, login_as, inbox, runner):
    with app.app_context():
        today = mail.organisation_today()
    tomorrow = today + timedelta(days=1)
    with app.app_context():
        mia, eva = db.session.get(User, team.mia.id), db.session.get(User, team.eva.id)
        planning.plan_conversation(mia, employee_id=eva.id, manager_id=mia.id,
                                  scheduled_at=datetime.combine(tomorrow, datetime.min.time()).replace(
                                      hour=11, tzinfo=timezone.utc))
        done = planning.plan_conversation(mia, employee_id=eva.id, manager_id=mia.id,
                                         scheduled_at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc))
        points.add_agreement(mia, done.id, text="Overdue thing", owner="employee", due=today - timedelta(days=3))
        points.set_next_evaluation(mia, done.id, today + timedelta(days=10))
        signoff.propose_close(mia, done.id)
        signoff.sign(mia, done.id)
        signoff.sign(eva, done.id)
    inbox.clear()
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    subjects = sorted((m["To"].split("<")[-1].rstrip(">"), m["Subject"]) for m in inbox.all())
    assert subjects == sorted([
        ("eva@example.org", "Morgen: je voortgangsgesprek met Mia"),
        ("mia@example.org", "Tomorrow: your progress conversation with Eva"),
        ("eva@example.org", "Het volgende voortgangsgesprek komt eraan"),
        ("mia@example.org", "The next progress conversation is due soon"),
        ("eva@example.org", "Een afspraak is te laat"),
    ])
    inbox.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert inbox.all() == []  # once each


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_remind_works_out_tomorrow_in_the_organisations_time_zone(app, team, inbox, runner, zone):
    """UTC+14 and UTC-11: at any hour one of them is on another day than the server's UTC."""
    from zoneinfo import ZoneInfo

    app.config["BABEL_DEFAULT_TIMEZONE"] = zone
    local_tomorrow = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    with app.app_context():
        mia, eva = db.session.get(User, team.mia.id), db.session.get(User, team.eva.id)
        planning.plan_conversation(mia, employee_id=eva.id, manager_id=mia.id, scheduled_at=datetime.combine(
            local_tomorrow, datetime.min.time()).replace(hour=12, tzinfo=ZoneInfo(zone)))
    inbox.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert sorted((m["To"].split("<")[-1].rstrip(">"), m["Subject"]) for m in inbox.all()) == [
        ("eva@example.org", "Morgen: je voortgangsgesprek met Mia"),
        ("mia@example.org", "Tomorrow: your progress conversation with Eva"),
    ]


def test_remind_without_smtp_says_so(runner):
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0 and "not configured" in result.output


def test_mail_module_reports_disabled(app):
    with app.app_context():
        assert mail.enabled() is False


def test_invitation_is_mailed_in_the_new_persons_language(app, team, login_as, inbox):
    admin = login_as(team.admin)
    response = admin.post("/admin/people/", data={"email": "noor@example.org", "name": "Noor", "locale": "nl",
                                                  "manager": str(team.mia.id)})
    assert response.status_code == 303
    [message] = inbox.to("noor@example.org")
    assert message["Subject"] == "Je bent uitgenodigd voor Voortgang"
    body = inbox.body(message)
    assert "https://voortgang.example.org/password/" in body and "noor@example.org" in body


def test_forgot_password_mails_a_link_only_to_known_people(app, team, client, inbox):
    for address in ("eva@example.org", "nobody@example.org"):
        response = client.post("/forgot-password", data={"email": address})
        assert response.status_code in (200, 303)
    [message] = inbox.all()
    assert "eva@example.org" in message["To"] and message["Subject"] == "Stel je wachtwoord voor Voortgang in"
    assert "/password/" in inbox.body(message)


def test_forgot_password_requests_are_throttled(app, team, client, inbox):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit + 3):
        response = client.post("/forgot-password", data={"email": "eva@example.org"})
        assert response.status_code == 303  # the same answer every time
    assert len(inbox.to("eva@example.org")) == limit
    # Eva can still sign in: the requests have a key of their own.
    from .conftest import login
    assert login(app.test_client(), "eva@example.org").status_code == 303


def _start_round(app, actor_id: int, starts_on: date, ends_on: date, team_id: int | None = None) -> int:
    from voortgang.rounds.service import start_round

    with app.test_request_context():
        return start_round(db.session.get(User, actor_id), name="Spring 2027", starts_on=starts_on,
                           ends_on=ends_on, team_id=team_id).id


def test_remind_tells_managers_once_a_week_while_people_of_theirs_are_to_plan(app, team, inbox, runner):
    with app.app_context():
        today = mail.organisation_today()
    _start_round(app, team.admin.id, today - timedelta(days=2), today + timedelta(days=40))
    inbox.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    messages = inbox.all()
    # Mia (Eva to plan) and Max (Tom): one each; nobody else manages anyone.
    assert sorted((m["To"].split("<")[-1].rstrip(">"), m["Subject"]) for m in messages) == [
        ("max@example.org", "Round Spring 2027: conversations still to plan"),
        ("mia@example.org", "Round Spring 2027: conversations still to plan"),
    ]
    body = inbox.body(inbox.to("mia@example.org")[0])
    assert "1 person of your team still has to be planned" in body and "/rounds/" in body
    inbox.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert inbox.all() == []  # once this week
    with app.app_context():
        assert mail.due_reminders(today + timedelta(days=3)) == 0  # still the same week
        assert mail.due_reminders(today + timedelta(days=5)) == 2  # the next week
        assert mail.due_reminders(today + timedelta(days=6)) == 0
    inbox.clear()
    # Once Eva is planned in the round, Mia hears nothing more; Max still does.
    with app.test_request_context():
        planning.plan_conversation(db.session.get(User, team.mia.id), employee_id=team.eva.id, manager_id=None,
                                   scheduled_at=datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc)
                                   + timedelta(days=1, hours=10))
    inbox.clear()
    with app.app_context():
        assert mail.due_reminders(today + timedelta(days=12)) == 1
    assert [m["To"] for m in inbox.all()] == ["Max <max@example.org>"]


def test_remind_tells_managers_once_when_the_round_ends_within_a_week(app, team, inbox, runner):
    with app.app_context():
        today = mail.organisation_today()
    round_id = _start_round(app, team.mia.id, today - timedelta(days=20), today + timedelta(days=7),
                            team_id=team.mia.id)
    inbox.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    [message] = inbox.all()
    assert message["Subject"] == "Round Spring 2027 ends soon: conversations still to plan"
    assert "1 person of your team has not been planned yet" in inbox.body(message)
    assert f"/rounds/{round_id}" in inbox.body(message)
    inbox.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    with app.app_context():
        assert mail.due_reminders(today + timedelta(days=3)) == 0  # the ending reminder went out once
        assert mail.due_reminders(today + timedelta(days=8)) == 0  # the round is over
    assert inbox.all() == []


def test_a_closed_round_reminds_nobody(app, team, inbox, runner, login_as):
    with app.app_context():
        today = mail.organisation_today()
    round_id = _start_round(app, team.admin.id, today, today + timedelta(days=3))
    assert login_as(team.admin).post(f"/rounds/{round_id}/close").status_code == 303
    inbox.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert inbox.all() == []
