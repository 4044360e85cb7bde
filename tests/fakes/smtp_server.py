"""A real SMTP server for tests (design §11): Debian's aiosmtpd, run by /usr/bin/python3
(the pyenv python3 first on PATH cannot import it).

    /usr/bin/python3 smtp_server.py MAILDIR PORTFILE [--starttls CERT KEY] [--smtps CERT KEY]
                                    [--auth USER:PASSWORD]

Listens on 127.0.0.1 on a free port and writes the port to PORTFILE (atomically) once it
accepts connections. Each message received is saved as MAILDIR/N.eml (the DATA as sent)
with MAILDIR/N.json beside it: {"mail_from", "rcpt_tos", "tls": bool, "auth": user or null}.

--starttls  offers STARTTLS with this certificate and requires it before MAIL
--smtps     TLS from the first byte (implicit TLS, smtps://)
--auth      offers AUTH PLAIN/LOGIN (only over TLS: after STARTTLS, or with --smtps) and
            refuses MAIL before a successful login with these credentials
"""
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            base = os.path.join(self.dir, str(self.n))
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "tls": session.ssl is not None  # after STARTTLS
                or server.transport.get_extra_info("ssl_object") is not None,  # implicit
                "auth": session.auth_data.login.decode() if isinstance(session.auth_data,
                                                                       LoginPassword) else None}
        # .eml last: a test waiting for it finds the metadata already there.
        for suffix, data in ((".json", json.dumps(meta).encode()), (".eml", envelope.content)):
            with open(base + suffix + ".tmp", "wb") as f:
                f.write(data)
            os.rename(base + suffix + ".tmp", base + suffix)
        return "250 OK: saved as %d" % self.n


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    directory, portfile, args = argv[1], argv[2], argv[3:]
    starttls = smtps = creds = None
    while args:
        a = args.pop(0)
        if a in ("--starttls", "--smtps") and len(args) >= 2:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(args.pop(0), args.pop(0))
            if a == "--starttls":
                starttls = ctx
            else:
                smtps = ctx
        elif a == "--auth" and args and ":" in args[0]:
            creds = args.pop(0).split(":", 1)
        else:
            sys.exit("smtp_server: bad option %s" % a)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and creds is not None
              and auth_data.login.decode() == creds[0]
              and auth_data.password.decode() == creds[1])
        # handled=False: aiosmtpd answers 535 itself (handled=True would leave it to us)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    kwargs = {}
    if starttls:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if creds:
        kwargs.update(authenticator=authenticator, auth_required=True)
        if smtps:  # aiosmtpd's own check only knows STARTTLS; implicit TLS is TLS too
            kwargs.update(auth_require_tls=False)
    os.makedirs(directory, exist_ok=True)
    # aiosmtpd 1.4 needs a real port number; a clash with another process is retried.
    for _ in range(20):
        port = free_port()
        ctl = Controller(Saver(directory), hostname="127.0.0.1", port=port, ssl_context=smtps,
                         server_kwargs=kwargs)
        try:
            ctl.start()
            break
        except (OSError, RuntimeError):
            continue
    else:
        sys.exit("smtp_server: no free port")
    with open(portfile + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(portfile + ".tmp", portfile)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(3600):
        pass
    ctl.stop()


if __name__ == "__main__":
    main(sys.argv)
