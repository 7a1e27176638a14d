"""Ask prosody for its external services (XEP-0215) as a guest of the meet domain, the way the
web client does: log in anonymously and send <services xmlns='urn:xmpp:extdisco:2'/>."""
import json
import ssl
import sys

import slixmpp
from slixmpp.xmlstream import ET

NS = "urn:xmpp:extdisco:2"


class Guest(slixmpp.ClientXMPP):
    def __init__(self, domain):
        super().__init__(domain, "")
        self.domain = domain
        self.services = None
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda _: self.disconnect())

    async def start(self, _):
        iq = self.Iq(stype="get", sto=self.domain)
        iq.append(ET.Element("{%s}services" % NS))
        try:
            answer = await iq.send(timeout=10)
            self.services = [dict(e.attrib) for e in answer.xml.iter("{%s}service" % NS)]
        finally:
            self.disconnect()


guest = Guest(sys.argv[1])
guest.ssl_context.check_hostname = False
guest.ssl_context.verify_mode = ssl.CERT_NONE  # the lab's self-signed certificate; credentials are what is tested
guest.connect(("127.0.0.1", 5222))
guest.process(forever=False)
print(json.dumps(guest.services))
