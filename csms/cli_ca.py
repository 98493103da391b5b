"""`csms ca init|show`: the built-in certificate authority that signs station certificates."""

from __future__ import annotations

import argparse
from typing import Any

from cryptography.hazmat.primitives import serialization

from csms.clock import utcnow
from csms.config import Settings
from csms.pki.local_ca import LocalCa, init_ca

COMMAND = "ca"


def add_parser(commands: Any) -> None:
    ca = commands.add_parser("ca", help="the CA that signs station client certificates")
    ca_commands = ca.add_subparsers(dest="action", required=True)
    init = ca_commands.add_parser(
        "init", help="make the CA key (mode 0600) and certificate; refuses to replace one"
    )
    init.add_argument(
        "--organization",
        required=True,
        help="the CPO name: stations put it in their CSR as organizationName (1.6 CpoName)",
    )
    init.add_argument("--common-name", help="the CA's name (default: '<organization> CA')")
    init.add_argument("--days", type=int, default=3650, help="validity in days (default 3650)")
    ca_commands.add_parser("show", help="print the CA certificate (PEM) and its organization")
    for parser in (init, ca_commands.choices["show"]):
        parser.add_argument("--data-dir", help="data directory, as given to `csms serve`")
        parser.add_argument("--ca-dir", help="CA folder [env CSMS_CA_DIR; default: <data-dir>/ca]")


def run(args: argparse.Namespace, settings: Settings) -> None:
    folder = settings.ca_folder
    if args.action == "init":
        cert = init_ca(
            folder,
            organization=args.organization,
            common_name=args.common_name or f"{args.organization} CA",
            days=args.days,
            now=utcnow(),
        )
        print(f"made the CA {cert.subject.rfc4514_string()} in {folder}")
        print(f"trust {folder / 'ca.pem'} for client certificates: --tls-client-ca")
        return
    ca = LocalCa.load(folder, valid_days=settings.cert_days)
    print(f"# organization: {ca.organization}; valid until {ca.certificate.not_valid_after_utc}")
    print(ca.certificate.public_bytes(serialization.Encoding.PEM).decode(), end="")
