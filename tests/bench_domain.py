"""What make bench's bare boots share: kpipe's domain XML made a guest of
the bench's own, a free port, and waiting for the SSH banner the way kpipe
waits (a new probe every 0.15 s, each waiting up to 2 s)."""
import re
import selectors
import socket
import time

IMAGES = {"x86_64": "arch/x86/boot/bzImage", "arm64": "arch/arm64/boot/Image"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def domain_xml(xml, name, kernel, console, port, sshkey=None):
    """kpipe's domain.xml with another name, kernel, console file, ssh port (and key)."""
    xml = re.sub(r"<name>[^<]*</name>", "<name>%s</name>" % name, xml)
    xml = re.sub(r"<kernel>[^<]*</kernel>", "<kernel>%s</kernel>" % kernel, xml)
    xml = re.sub(r"<source path='[^']*'/>", "<source path='%s'/>" % console, xml)
    xml = re.sub(r"hostfwd=tcp:127.0.0.1:[0-9]+-:22", "hostfwd=tcp:127.0.0.1:%d-:22" % port, xml)
    if sshkey:
        xml = re.sub(r"kpipe\.sshkey=[A-Za-z0-9+/=]+", "kpipe.sshkey=" + sshkey, xml)
    return xml


def banner(port, t0, limit=600):
    """Seconds from t0 to the guest's SSH banner on 'port', or None."""
    sel, probes, last = selectors.DefaultSelector(), {}, 0
    try:
        while time.time() - t0 < limit:
            now = time.time()
            if now - last >= 0.15:
                c = socket.socket()
                c.setblocking(False)
                c.connect_ex(("127.0.0.1", port))
                sel.register(c, selectors.EVENT_READ)
                probes[c], last = now, now
            for c, started in list(probes.items()):
                if now - started > 2:
                    sel.unregister(c)
                    c.close()
                    del probes[c]
            for key, _ in sel.select(0.15):
                c = key.fileobj
                try:
                    data = c.recv(4)
                except OSError:
                    data = b""
                if data.startswith(b"SSH-"):
                    return time.time() - t0
                sel.unregister(c)
                c.close()
                del probes[c]
        return None
    finally:
        for c in probes:
            c.close()
