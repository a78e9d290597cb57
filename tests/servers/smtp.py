"""A minimal SMTP server (RFC 5321 subset) over socketserver: EHLO/HELO, STARTTLS (RFC 3207) with a
self-signed certificate, AUTH PLAIN (RFC 4954), MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT. Keeps
every message it accepts."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    user: str | None  # who authenticated
    tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed: EmailMessage = message_from_bytes(self.data, policy=policy.default)
        return parsed


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


class SmtpServer:
    def __init__(
        self, *, tls: tuple[Path, Path] | None = None, credentials: tuple[str, str] | None = None
    ) -> None:
        self.messages: list[Received] = []
        self.credentials = credentials
        self.context: ssl.SSLContext | None = None
        if tls:
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(*tls)
        self._tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._tcp.daemon_threads = True
        self._thread = threading.Thread(target=self._tcp.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._tcp.server_address[1])

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._tcp.shutdown()
        self._tcp.server_close()

    def _handler(self) -> type[socketserver.BaseRequestHandler]:
        server = self

        class Session(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                _Dialogue(server, self.request).run()

        return Session


class _Dialogue:
    """One SMTP session."""

    def __init__(self, server: SmtpServer, sock: socket.socket) -> None:
        self.server, self.sock = server, sock
        self.file = sock.makefile("rb")
        self.tls = False
        self.user: str | None = None
        self.sender: str | None = None
        self.recipients: list[str] = []

    def say(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def run(self) -> None:
        self.say("220 localhost cloudsoc test SMTP ready")
        while True:
            raw = self.file.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            if not self.command(verb.upper(), arg):
                return

    def command(self, verb: str, arg: str) -> bool:
        if verb == "EHLO":
            extensions = ["8BITMIME", "SIZE 10485760"]
            if self.server.context and not self.tls:
                extensions.append("STARTTLS")
            if self.server.credentials and (self.tls or not self.server.context):
                extensions.append("AUTH PLAIN")
            for ext in ["localhost", *extensions][:-1]:
                self.say(f"250-{ext}")
            self.say(f"250 {extensions[-1]}")
        elif verb == "HELO":
            self.say("250 localhost")
        elif verb == "STARTTLS" and self.server.context and not self.tls:
            self.say("220 2.0.0 Ready to start TLS")
            self.sock = self.server.context.wrap_socket(self.sock, server_side=True)
            self.file, self.tls = self.sock.makefile("rb"), True
            self.user, self.sender, self.recipients = None, None, []  # RFC 3207: forget everything
        elif verb == "AUTH":
            self.auth(arg)
        elif verb == "MAIL":
            self.mail(arg)
        elif verb == "RCPT":
            self.rcpt(arg)
        elif verb == "DATA":
            self.data()
        elif verb == "RSET":
            self.sender, self.recipients = None, []
            self.say("250 2.0.0 OK")
        elif verb == "NOOP":
            self.say("250 2.0.0 OK")
        elif verb == "QUIT":
            self.say("221 2.0.0 Bye")
            return False
        else:
            self.say("502 5.5.2 Command not recognized")
        return True

    def auth(self, arg: str) -> None:
        mech, _, initial = arg.partition(" ")
        if mech.upper() != "PLAIN" or not self.server.credentials:
            self.say("504 5.5.4 Unrecognized authentication type")
            return
        if not initial:
            self.say("334 ")
            initial = self.file.readline().decode().strip()
        _, user, password = base64.b64decode(initial).decode().split("\0")
        if (user, password) != self.server.credentials:
            self.say("535 5.7.8 Authentication credentials invalid")
            return
        self.user = user
        self.say("235 2.7.0 Authentication successful")

    def mail(self, arg: str) -> None:
        if self.server.credentials and self.user is None:
            self.say("530 5.7.0 Authentication required")
        elif not arg.upper().startswith("FROM:"):
            self.say("501 5.5.4 Syntax: MAIL FROM:<address>")
        else:
            self.sender, self.recipients = arg[5:].split()[0].strip("<>"), []
            self.say("250 2.1.0 OK")

    def rcpt(self, arg: str) -> None:
        if self.sender is None:
            self.say("503 5.5.1 Need MAIL before RCPT")
        elif not arg.upper().startswith("TO:"):
            self.say("501 5.5.4 Syntax: RCPT TO:<address>")
        else:
            self.recipients.append(arg[3:].split()[0].strip("<>"))
            self.say("250 2.1.5 OK")

    def data(self) -> None:
        if not self.recipients or self.sender is None:
            self.say("503 5.5.1 Need RCPT before DATA")
            return
        self.say("354 End data with <CR><LF>.<CR><LF>")
        lines = []
        while (line := self.file.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        self.server.messages.append(
            Received(self.sender, self.recipients, b"".join(lines), self.user, self.tls)
        )
        self.sender, self.recipients = None, []
        self.say("250 2.0.0 OK queued")
