// Sign-up and sign-in against passkey-idp from another origin: begin → the browser's WebAuthn
// API → finish, with the ceremony bound by the `ceremony` field instead of a cookie.

const $ = (id) => document.getElementById(id);

async function post(path, body) {
  const response = await fetch($("idp").value.replace(/\/$/, "") + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${answer.error}: ${answer.error_description}`);
  return answer;
}

function show(what) {
  $("out").textContent = typeof what === "string" ? what : JSON.stringify(what, null, 2);
}

async function signUp() {
  const begin = await post("/webauthn/register/begin", { username: $("username").value });
  const credential = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(begin.publicKey),
  });
  const done = await post("/webauthn/register/finish", {
    ...credential.toJSON(),
    ceremony: begin.ceremony,
  });
  show({ signed_up: done.user, passkey: done.credential, access_token: done.access_token });
}

async function signIn() {
  const username = $("username").value.trim();
  const begin = await post("/webauthn/login/begin", username ? { username } : {});
  const credential = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(begin.publicKey),
  });
  const done = await post("/webauthn/login/finish", {
    ...credential.toJSON(),
    ceremony: begin.ceremony,
  });
  // Verify the access token offline against /.well-known/jwks.json in your API.
  show({ signed_in: true, access_token: done.access_token, expires_in: done.expires_in });
}

for (const [id, action] of [["signup", signUp], ["signin", signIn]]) {
  $(id).addEventListener("click", () => action().catch((e) => show(String(e))));
}
