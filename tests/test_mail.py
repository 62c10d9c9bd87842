"""E-mail through a real local SMTP server (aiosmtpd): content, language, reminders once."""
import email
import email.policy
from datetime import date, datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from voortgang import mail
from voortgang.conversations import service
from voortgang.extensions import db
from voortgang.models import User

from .servers import free_port
from .helpers import plan


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if address in m["To"]]

    def body(self, message):
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def inbox(app):
    handler = Inbox()
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
    cid = int(plan(mia, team.eva).headers["Location"].rsplit("/", 1)[1])
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    inbox.messages.clear()
    mia.post(f"/conversations/{cid}/propose-close")
    [message] = inbox.messages
    assert "eva@example.org" in message["To"] and "handtekening" in message["Subject"]
    eva.post(f"/conversations/{cid}/sign")
    [reminder] = inbox.to("mia@example.org")
    assert reminder["Subject"] == "Your signature is needed on a progress conversation"
    mia.post(f"/conversations/{cid}/sign")
    assert len(inbox.messages) == 2  # completed: nobody left to ask


def test_without_smtp_nothing_is_sent_and_nothing_fails(app, team, login_as):
    assert not app.config.get("SMTP_HOST")
    assert plan(login_as(team.mia), team.eva).status_code == 303


def test_smtp_failure_never_breaks_the_request(app, team, login_as):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False, SMTP_TIMEOUT=2)
    assert plan(login_as(team.mia), team.eva).status_code == 303


def test_remind_sends_each_reminder_once(app, team, login_as, inbox, runner):
    tomorrow = date.today() + timedelta(days=1)
    with app.app_context():
        mia, eva = db.session.get(User, team.mia.id), db.session.get(User, team.eva.id)
        service.plan_conversation(mia, employee_id=eva.id, manager_id=mia.id,
                                  scheduled_at=datetime.combine(tomorrow, datetime.min.time()).replace(
                                      hour=11, tzinfo=timezone.utc))
        done = service.plan_conversation(mia, employee_id=eva.id, manager_id=mia.id,
                                         scheduled_at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc))
        service.add_agreement(mia, done.id, text="Overdue thing", owner="employee", due=date.today() - timedelta(days=3))
        service.set_next_evaluation(mia, done.id, date.today() + timedelta(days=10))
        service.propose_close(mia, done.id)
        service.sign(mia, done.id)
        service.sign(eva, done.id)
    inbox.messages.clear()
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    subjects = sorted((m["To"].split("<")[-1].rstrip(">"), m["Subject"]) for m in inbox.messages)
    assert subjects == sorted([
        ("eva@example.org", "Morgen: je voortgangsgesprek met Mia"),
        ("mia@example.org", "Tomorrow: your progress conversation with Eva"),
        ("eva@example.org", "Het volgende voortgangsgesprek komt eraan"),
        ("mia@example.org", "The next progress conversation is due soon"),
        ("eva@example.org", "Een afspraak is te laat"),
    ])
    inbox.messages.clear()
    assert runner.invoke(args=["remind"]).exit_code == 0
    assert inbox.messages == []  # once each


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
    [message] = inbox.messages
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
