"""The domain model, one module per part (described in docs/architecture.md, section 5):
`people.py`, `conversation.py` (templates, conversations, answers, talking points,
agreements), `activity.py` (preparation, audit trail, presence, reminders, outbox, read
log), `rounds.py` (rounds and their people). Import every model from here: `from voortgang.models import Conversation`."""
from ..vocabulary import (  # noqa: F401  (the tuples are imported from here too)
    AGREEMENT_OWNERS,
    AGREEMENT_STATUSES,
    PHASES,
    REVIEW_DECISIONS,
    REVIEW_RATINGS,
    ROLES,
    STATUSES,
)
from .activity import (  # noqa: F401
    Preparation,
    PreparationShare,
    GuideDismissal,
    AuditEvent,
    Presence,
    SentReminder,
    OutgoingMail,
    RecordRead,
)
from .conversation import (  # noqa: F401
    Template,
    TemplateQuestion,
    Conversation,
    ConversationQuestion,
    Answer,
    TalkingPoint,
    Agreement,
    AgreementReview,
    PersonFacts,
)
from .rounds import (  # noqa: F401
    Round,
    RoundPerson,
)
from .people import (  # noqa: F401
    new_session_token,
    User,
    LoginFailure,
    Setting,
)
