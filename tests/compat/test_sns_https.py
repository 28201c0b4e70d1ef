"""SNS to HTTPS endpoints: the confirmation flow and signed notifications over TLS, with the
endpoint's certificate verified as AWS verifies it.

The test makes a private CA and a server certificate for 127.0.0.1 (``cryptography``), runs an
HTTPS endpoint (``http.server`` + ``ssl``), and starts a Ponte server of its own whose
``SSL_CERT_FILE`` names the CA: Ponte trusts the OS root store, or, when ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` are set, the certificates there. An endpoint whose certificate no trusted CA
issued gets nothing: the TLS handshake fails, the subscription stays pending, and the server
log says why.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import make_client
from sqs_helpers import wait_until
from test_sns_http import verify_signature

LOCALHOST = ipaddress.ip_address("127.0.0.1")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ponte compat tests")])


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
        now + datetime.timedelta(days=30))


def make_ca(common_name: str):
    """A self-signed CA: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_server_cert(ca_cert, ca_key):
    """A certificate for 127.0.0.1 issued by the CA: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _validity(x509.CertificateBuilder())
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(LOCALHOST)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def write_pem(path: Path, cert, key=None) -> Path:
    data = cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return path


class TlsSink:
    """An HTTPS endpoint that records every POST (answering 200) and every failed TLS handshake.
    The handshake runs in the request's thread, so a client that rejects the certificate cannot
    stall the accept loop."""

    def __init__(self, cert_and_key: Path):
        self.received: list[dict] = []
        self.handshake_failures: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_and_key))
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                sink.received.append({"headers": headers, "body": body, "path": self.path})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, addr = self.socket.accept()
                return context.wrap_socket(sock, server_side=True,
                                           do_handshake_on_connect=False), addr

            def handle_error(self, request, client_address):
                import sys
                sink.handshake_failures.append(repr(sys.exc_info()[1]))

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}/sns/hook"

    def of_type(self, kind: str) -> list[dict]:
        return [r for r in self.received if r["headers"].get("x-amz-sns-message-type") == kind]

    def wait(self, kind: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        return wait_until(lambda: len(self.of_type(kind)) >= count and self.of_type(kind),
                          timeout, what=f"{count} {kind} POST(s) over TLS")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def pki(tmp_path):
    """A trusted CA bundle, a server certificate it issued, and one from a CA nobody trusts."""
    ca_cert, ca_key = make_ca("Ponte Test Root CA")
    trusted = make_server_cert(ca_cert, ca_key)
    rogue_ca_cert, rogue_ca_key = make_ca("Untrusted Root CA")
    untrusted = make_server_cert(rogue_ca_cert, rogue_ca_key)
    return {
        "ca_bundle": write_pem(tmp_path / "ca-bundle.pem", ca_cert),
        "trusted": write_pem(tmp_path / "trusted-server.pem", *trusted),
        "untrusted": write_pem(tmp_path / "untrusted-server.pem", *untrusted),
    }


@pytest.fixture()
def https_server(server_factory, pki, monkeypatch):
    """A Ponte server that trusts the test CA (and nothing else) through SSL_CERT_FILE; the
    server inherits the test process's environment."""
    monkeypatch.setenv("SSL_CERT_FILE", str(pki["ca_bundle"]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return server_factory(ephemeral=True, label="sns-https")


def test_https_confirmation_flow_and_signed_notifications(https_server, pki):
    sink = TlsSink(pki["trusted"])
    sns = make_client(https_server.endpoint, service="sns")
    topic = sns.create_topic(Name=f"tls-{uuid.uuid4().hex[:12]}")["TopicArn"]
    try:
        resp = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=sink.url)
        assert resp["SubscriptionArn"] == "pending confirmation"
        post = sink.wait("SubscriptionConfirmation")[0]
        assert post["path"] == "/sns/hook"
        assert post["headers"]["x-amz-sns-topic-arn"] == topic
        confirmation = json.loads(post["body"])
        assert confirmation["Type"] == "SubscriptionConfirmation"
        verify_signature(confirmation)

        with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=5) as r:
            assert r.status == 200
        sub = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]
        assert sub["Protocol"] == "https" and sub["Endpoint"] == sink.url
        sub_arn = sub["SubscriptionArn"]
        assert sub_arn.startswith(topic + ":")

        message_id = sns.publish(TopicArn=topic, Message="over TLS",
                                 Subject="secure")["MessageId"]
        post = sink.wait("Notification")[0]
        assert post["headers"]["x-amz-sns-message-id"] == message_id
        assert post["headers"]["x-amz-sns-subscription-arn"] == sub_arn
        note = json.loads(post["body"])
        assert (note["Type"], note["Message"], note["Subject"]) == ("Notification", "over TLS",
                                                                    "secure")
        verify_signature(note)

        # Further notifications reuse the pooled client.
        for n in range(3):
            sns.publish(TopicArn=topic, Message=f"again {n}")
        posts = sink.wait("Notification", 4)
        assert sorted(json.loads(p["body"])["Message"] for p in posts[1:]) == [
            "again 0", "again 1", "again 2"]
        assert sink.handshake_failures == []
    finally:
        sns.delete_topic(TopicArn=topic)
        sink.close()


def test_untrusted_https_endpoint_gets_nothing(https_server, pki):
    untrusted = TlsSink(pki["untrusted"])
    trusted = TlsSink(pki["trusted"])
    sns = make_client(https_server.endpoint, service="sns")
    topic = sns.create_topic(Name=f"tls-bad-{uuid.uuid4().hex[:12]}")["TopicArn"]
    try:
        resp = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=untrusted.url)
        assert resp["SubscriptionArn"] == "pending confirmation"
        # Ponte connects, rejects the certificate during the handshake, and sends nothing.
        wait_until(lambda: untrusted.handshake_failures, 20,
                   what="a TLS handshake the client aborted")
        wait_until(lambda: "certificate verification failed" in https_server.log_tail(400),
                   10, what="the certificate failure in the server log")
        log = https_server.log_tail(400)
        assert untrusted.url in log and "UnknownIssuer" in log, log

        # The trusted endpoint on the same topic works; the untrusted one stays pending.
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint=trusted.url)
        confirmation = json.loads(trusted.wait("SubscriptionConfirmation")[0]["body"])
        sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
        sns.publish(TopicArn=topic, Message="only for the trusted")
        assert json.loads(trusted.wait("Notification")[0]["body"])["Message"] == (
            "only for the trusted")
        subs = {s["Endpoint"]: s["SubscriptionArn"]
                for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]}
        assert subs[untrusted.url] == "PendingConfirmation"
        assert untrusted.received == []
        assert https_server.is_running()
    finally:
        sns.delete_topic(TopicArn=topic)
        untrusted.close()
        trusted.close()
