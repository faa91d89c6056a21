"""003's contact form: a visitor's message mailed to MAIL_FROM_ADDRESS, Reply-To the visitor.

Header injection. The visitor's name and address end up in headers (Subject, Reply-To), so
neither may hold a line break of any kind: the address passes the one email rule (which refuses
whitespace and control characters), and `line_break_in` refuses every character Python splits
lines on in the name (CR and LF, and NEL, U+2028 and U+2029, which some mail software reads as
line ends too) with a 422 before anything is queued. Beneath that the Reply-To is built by
`formataddr`, which quotes a name holding commas, quotes or angle brackets, so it is one address
whatever the name says, and jobs/mail.py builds headers with the email package, which refuses a
value with a line break.
"""

from __future__ import annotations

from email.utils import formataddr

from domain.errors import Invalid
from domain.mailer import Mailer, Message

NAME_MAX = 255
MESSAGE_MAX = 5000
SUBJECT_NAME_MAX = 80  # of the name, in the subject line; the whole name is in the body


def line_break_in(value: str) -> bool:
    return len(value.splitlines()) > 1 or value != value.rstrip("\r\n\x85\u2028\u2029")


def contact_message(to: str, name: str, email: str, text: str) -> Message:
    body = f"A message through the contact form.\n\nFrom: {name} <{email}>\n\n{text}\n"
    subject = f"Contact form: {name[:SUBJECT_NAME_MAX]}"
    return Message(to, subject, body, None, "contact", (), (("Reply-To", formataddr((name, email))),))


async def send_contact(mailer: Mailer, to: str, name: str, email: str, text: str) -> int:
    """Queue the visitor's message for MAIL_FROM_ADDRESS (`to`); returns the mail job's id."""
    if line_break_in(name) or line_break_in(email):
        # the handler's validation says so per field first; this holds for any other caller
        raise Invalid(fields={"name" if line_break_in(name) else "email": ["The value may not contain line breaks."]})
    return await mailer.send(contact_message(to, name, email, text))
