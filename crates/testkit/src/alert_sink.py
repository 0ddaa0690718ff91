"""aiosmtpd handler for the keepalived-alert tests: every message received
is written as one JSON file (envelope, HELO/EHLO name, raw DATA) in the
directory given as the handler argument.

Run: python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c alert_sink.Sink OUTDIR
"""
import json
import os


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("Sink needs the output directory")
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # Lets the tests see how a refused recipient is reported.
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = {
            "helo": session.host_name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": raw.decode("latin-1"),
            "tls": session.ssl is not None,
        }
        tmp = os.path.join(self.outdir, "msg%04d.tmp" % self.count)
        with open(tmp, "w") as f:
            json.dump(msg, f)
        os.rename(tmp, os.path.join(self.outdir, "msg%04d.json" % self.count))
        return "250 OK"
