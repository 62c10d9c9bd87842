"""The record as a PDF document, the print stylesheet, and who read a record."""
import io
import time
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from voortgang.database import writing
from voortgang.extensions import db
from voortgang.models import Conversation, ConversationQuestion, RecordRead

from .helpers import new_id, plan, question_ids, save
from .test_records import complete

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def pdf_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_pages(response) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]


def flat(text: str) -> str:
    """Text as extracted, with line breaks from wrapping joined."""
    return " ".join(text.split())


@pytest.fixture
def done(app, team, login_as):
    """Eva's completed conversation with Mia: answers from both, a talking point,
    agreements, a closing comment that disagrees."""
    mia, eva = login_as(team.mia), login_as(team.eva)
    cid = new_id(plan(mia, team.eva))
    first, second = question_ids(app, cid)[:2]
    assert save(eva, cid, first, "Eva looked back on a good year", 0).status_code == 200
    assert save(mia, cid, first, "Mia agrees: a strong year", 0).status_code == 200
    assert save(eva, cid, second, XSS, 0).status_code == 200
    eva.post(f"/conversations/{cid}/talking-points", data={"phase": "looking_back", "text": "Workload in spring"})
    mia.post(f"/conversations/{cid}/propose-close")
    complete(app, mia, eva, cid, agreements=[("Follow a presenting course", "employee", "2027-03-01", "open")])
    return cid, mia, eva


def test_the_pdf_holds_the_whole_record_in_the_viewers_language(app, done, team):
    cid, mia, eva = done
    text = flat(pdf_text(mia.get(f"/conversations/{cid}/record.pdf")))  # Mia reads English
    for expected in ("Eva looked back on a good year", "Mia agrees: a strong year", "Workload in spring",
                     "Follow a presenting course", "Employee", "1 Mar 2027", "Open", "Eva", "Mia",
                     "Room 2", "signed on", "Looking back", "Next evaluation"):
        assert expected in text, expected
    with app.app_context():
        question = db.session.get(ConversationQuestion, question_ids(app, cid)[0])
        english, dutch = question.text_en, question.text_nl
    assert flat(english) in text and flat(dutch) not in text
    assert "DRAFT" not in text
    dutch_text = flat(pdf_text(mia.get(f"/conversations/{cid}/record.pdf?lang=nl")))
    assert flat(dutch) in dutch_text and flat(english) not in dutch_text
    assert "Terugkijken" in dutch_text and "ondertekend" in dutch_text
    # Eva's saved language is Dutch: her PDF is Dutch without asking.
    assert flat(dutch) in flat(pdf_text(eva.get(f"/conversations/{cid}/record.pdf")))


def test_escaping_holds_in_the_pdf(done):
    cid, mia, _eva = done
    assert flat(XSS) in flat(pdf_text(mia.get(f"/conversations/{cid}/record.pdf")))


def test_the_closing_comment_with_disagreement_is_in_the_pdf(app, team, login_as):
    mia, eva = login_as(team.mia), login_as(team.eva)
    cid = new_id(plan(mia, team.eva))
    mia.post(f"/conversations/{cid}/next-evaluation", data={"next_evaluation": "2027-06-01"})
    mia.post(f"/conversations/{cid}/propose-close")
    eva.post(f"/conversations/{cid}/sign", data={"comment": "I do not agree with the rating of phase 1"})
    mia.post(f"/conversations/{cid}/sign")
    text = flat(pdf_text(mia.get(f"/conversations/{cid}/record.pdf")))
    assert "I do not agree with the rating of phase 1" in text and "Closing comment" in text


def test_an_open_conversation_is_a_draft_on_every_page(app, team, login_as):
    mia, eva = login_as(team.mia), login_as(team.eva)
    cid = new_id(plan(mia, team.eva))
    for n, qid in enumerate(question_ids(app, cid)):
        save(eva, cid, qid, f"Answer {n} " + "A long answer that fills the page. " * 30, 0)
    pages = pdf_pages(mia.get(f"/conversations/{cid}/record.pdf"))
    assert len(pages) > 1
    assert all("DRAFT" in page for page in pages)
    dutch = pdf_pages(mia.get(f"/conversations/{cid}/record.pdf?lang=nl"))
    assert all("CONCEPT" in page for page in dutch)


def test_outsiders_get_404_and_an_administrator_only_the_completed_record(app, team, login_as, client):
    mia = login_as(team.mia)
    cid = new_id(plan(mia, team.eva))
    assert login_as(team.tom).get(f"/conversations/{cid}/record.pdf").status_code == 404
    assert login_as(team.max).get(f"/conversations/{cid}/record.pdf").status_code == 404
    assert login_as(team.admin).get(f"/conversations/{cid}/record.pdf").status_code == 404  # not completed yet
    assert client.get(f"/conversations/{cid}/record.pdf").status_code == 302  # sign in first
    assert login_as(team.tom).get(f"/people/{team.eva.id}/record.pdf").status_code == 404
    assert login_as(team.max).get(f"/people/{team.eva.id}/record.pdf").status_code == 404


def test_a_person_s_record_as_one_pdf(app, done, team, login_as):
    cid, mia, eva = done
    follow = new_id(plan(mia, team.eva, when="2027-06-01T10:00", follows=cid))
    with app.app_context():
        carried = next(a.id for a in db.session.get(Conversation, follow).agreements)
    eva.post(f"/conversations/{follow}/agreements/{carried}/review", data={"rating": "partly", "comment": "Half way"})
    complete(app, mia, eva, follow, next_evaluation="2027-12-01")
    open_one = new_id(plan(mia, team.eva, when="2027-12-01T10:00", follows=follow))
    save(eva, open_one, question_ids(app, open_one)[0], "Not signed yet, not in the record", 0)
    response = login_as(team.admin).get(f"/people/{team.eva.id}/record.pdf?lang=en")
    pages = pdf_pages(response)
    text = flat("\n".join(pages))
    assert "Record of Eva" in text and "2 completed conversations" in text
    assert "Eva looked back on a good year" in text and "Half way" in text
    assert "Not signed yet" not in text and "DRAFT" not in text
    assert "Agreements and how they went" in text


def test_private_texts_of_another_conversation_never_appear(app, done, team, login_as):
    """The PDF shows one conversation's record: an open conversation's answers (which an
    administrator may not see) are not in the person's record PDF either."""
    cid, mia, eva = done
    other = new_id(plan(mia, team.eva, when="2027-02-01T10:00"))
    save(eva, other, question_ids(app, other)[0], "Work in progress, for Mia only", 0)
    assert "Work in progress" not in flat(pdf_text(login_as(team.admin).get(f"/people/{team.eva.id}/record.pdf")))
    assert "Work in progress" not in flat(pdf_text(mia.get(f"/conversations/{cid}/record.pdf")))


def test_twenty_questions_render_within_a_second(app, team, login_as, capsys):
    """A benchmark figure (printed), not a timed assertion beyond a generous bound."""
    mia, eva = login_as(team.mia), login_as(team.eva)
    cid = new_id(plan(mia, team.eva))
    with app.app_context(), writing():
        conversation = db.session.get(Conversation, cid)
        have = len(conversation.questions)
        for n in range(have, 20):
            conversation.questions.append(ConversationQuestion(
                phase="looking_forward", phase_order=1, position=100 + n,
                text_nl=f"Vraag {n}?", text_en=f"Question {n}?"))
    for qid in question_ids(app, cid):
        save(eva, cid, qid, "An answer of a few lines. " * 8, 0)
        save(mia, cid, qid, "The manager's answer. " * 8, 0)
    assert len(question_ids(app, cid)) == 20
    mia.get(f"/conversations/{cid}/record.pdf")  # warm: fonts, templates
    times = []
    for _ in range(3):
        start = time.perf_counter()
        response = mia.get(f"/conversations/{cid}/record.pdf")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    with capsys.disabled():
        print(f"\n20-question PDF: best {min(times) * 1000:.0f} ms, {len(pdf_pages(response))} pages")
    assert min(times) < 5  # the figure is printed above; this only catches a runaway


# --- Who read it ---------------------------------------------------------------------------------


def reads(app) -> list:
    with app.app_context():
        return [(r.reader_id, r.form, r.capacity) for r in db.session.scalars(select(RecordRead).order_by(RecordRead.id))]


def test_an_administrator_s_reads_are_logged_and_shown_to_the_employee(app, done, team, login_as):
    cid, mia, eva = done
    admin = login_as(team.admin)
    assert admin.get(f"/conversations/{cid}").status_code == 200
    assert admin.get(f"/conversations/{cid}/phases/agreements").status_code == 200  # same day, same form
    assert admin.get(f"/conversations/{cid}/export.json").status_code == 200
    assert admin.get(f"/conversations/{cid}/record.pdf").status_code == 200
    assert sorted(reads(app)) == sorted([(team.admin.id, "page", "administrator"),
                                         (team.admin.id, "json", "administrator"),
                                         (team.admin.id, "pdf", "administrator")])
    page = eva.get(f"/people/{team.eva.id}/record").get_data(as_text=True)
    assert "Wie dit dossier las" in page and "Hanna (beheerder) las dit dossier op" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<section" not in title and page.count('id="record-reads"') == 1  # once, in the page's body
    exported = eva.get("/me/export.json").get_json()["record_reads"]
    assert {(r["reader"]["name"], r["as"], r["form"], r["conversation"]) for r in exported} == {
        ("Hanna", "administrator", form, cid) for form in ("page", "json", "pdf")}
    # The manager's record page of Eva does not show the list; Mia's own export holds none of Eva's.
    assert "Who read this record" not in mia.get(f"/people/{team.eva.id}/record").get_data(as_text=True)
    assert mia.get("/me/export.json").get_json()["record_reads"] == []


def test_the_participants_own_views_are_not_logged(app, done, team, login_as):
    cid, mia, eva = done
    for client in (mia, eva):
        for path in ("", "/phases/agreements", "/export.json", "/record.pdf"):
            assert client.get(f"/conversations/{cid}{path}").status_code == 200
    assert client.get(f"/people/{team.eva.id}/record.pdf").status_code == 200
    assert reads(app) == []
    assert "Nog niemand anders dan de deelnemers" in eva.get(f"/people/{team.eva.id}/record").get_data(as_text=True)


def test_an_administrator_reading_the_record_pdf_is_logged_per_conversation(app, done, team, login_as):
    cid, _mia, _eva = done
    assert login_as(team.admin).get(f"/people/{team.eva.id}/record.pdf").status_code == 200
    assert reads(app) == [(team.admin.id, "pdf", "administrator")]


def test_the_audit_trail_is_shown_to_administrators_only(app, done, team, login_as):
    cid, mia, _eva = done
    page = login_as(team.admin).get(f"/conversations/{cid}").get_data(as_text=True)
    assert "Audit trail" in page and "changed an answer" in page and "Eva (employee)" in page
    assert "signed" in page and "Eva looked back" not in page.split("Audit trail")[1]
    assert "Audit trail" not in mia.get(f"/conversations/{cid}").get_data(as_text=True)


def test_every_page_links_the_print_stylesheet(done, team):
    cid, mia, _eva = done
    page = mia.get(f"/conversations/{cid}").get_data(as_text=True)
    assert 'media="print"' in page and "css/print." in page
    assert "record.pdf" in page
