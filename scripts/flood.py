#!/usr/bin/env python3
"""Anonymous flood against a running passkey-idp: N GET /authorize (a registered public client,
no session) and N POST /token with made-up codes, from one address, over keep-alive connections.
Prints the status counts. Usage: scripts/flood.py BASE_URL CLIENT_ID N"""
import collections
import http.client
import sys
import urllib.parse

base, client_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
query = urllib.parse.urlencode({
    "response_type": "code", "client_id": client_id, "redirect_uri": "http://localhost:9/cb",
    "scope": "openid", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256",
})
seen = collections.Counter()
for i in range(n):
    conn.request("GET", "/authorize?" + query)
    r = conn.getresponse(); r.read(); seen[("authorize", r.status)] += 1
    body = urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": f"made-up-code-{i}",
        "redirect_uri": "http://localhost:9/cb", "client_id": client_id,
        "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    })
    conn.request("POST", "/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse(); r.read(); seen[("token", r.status)] += 1
for (endpoint, status), count in sorted(seen.items()):
    print(f"{endpoint} {status}: {count}")
