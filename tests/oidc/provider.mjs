// An OpenID provider for the tests: the npm registry's `oidc-provider` (an OpenID Certified
// implementation) on loopback over plain HTTP, with one confidential client and accounts whose
// password, e-mail, groups and authentication methods (`amr`) come from a JSON file:
//
//   node tests/oidc/provider.mjs CONFIG.json [PORT]
//
//   {"port": 8123,
//    "client": {"client_id": "desk", "client_secret": "…", "redirect_uris": ["http://…/callback/"]},
//    "accounts": [{"id": "ada", "password": "…", "email": "ada@example.com", "email_verified": true,
//                  "name": "Ada Lovelace", "groups": ["noc"], "amr": ["pwd", "mfa"]}]}
//
// PORT, when given, stands for the file's "port"; the issuer is http://127.0.0.1:PORT. It prints
// "listening on ISSUER" once it answers.
//
// A person signs in on a small form (fields `login` and `password`, button "Sign in"); consent is
// given at once, as an organisation's own provider does for its own applications. The id_token is
// signed with RS256 by a key made at start (published at /jwks) and carries `email` and
// `email_verified` (scope email), `name` (profile), `groups` (scope groups), the client's `nonce`
// and, when the account lists them, its `amr`.
//
// oidc-provider 9 warns "Unsupported runtime" below Node.js 22 but runs on Debian's Node.js 20:
// the newer functions it calls (URL.parse, crypto.hash) are there from 20.18.

import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const port = Number(process.argv[3] ?? config.port);
const issuer = `http://127.0.0.1:${port}`;
const accounts = new Map(config.accounts.map((account) => [account.id, account]));

const signingKey = {
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
  kid: randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: config.client.client_id,
      client_secret: config.client.client_secret,
      redirect_uris: config.client.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // A client registered for a client secret may send it either way: in the body
      // (client_secret_post) or as HTTP Basic (client_secret_basic).
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  // Only S256 is implemented; this makes a code challenge compulsory for confidential clients too.
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    // With `sub`, how the person authenticated (RFC 8176) when the account says so: a relying
    // party reads a second factor there.
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // The claims of the granted scopes go into the id_token as well, not only to the userinfo
  // endpoint, as Entra ID, Google and Keycloak do.
  conformIdTokenClaims: false,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: account.email_verified ?? false,
          name: account.name,
          groups: account.groups ?? [],
        };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in failed', `<p>${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`);
  },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

function loginForm(uid, { login = '', error = '' } = {}) {
  const alert = error ? `<p role="alert">${escape(error)}</p>` : '';
  return page('Sign in to the test provider', `${alert}
<form method="post" action="/interaction/${escape(uid)}">
<p><label>Login <input name="login" autocomplete="username" value="${escape(login)}" required autofocus></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>`);
}

function passwordMatches(account, password) {
  const expected = Buffer.from(account?.password ?? '');
  const given = Buffer.from(password ?? '');
  return account !== undefined && expected.length === given.length && timingSafeEqual(expected, given);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

// The consent an organisation gives for its own application: every scope and claim asked for.
async function grantEverythingAsked(details) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, page('Sign-in failed', '<p>This sign-in has expired; start again.</p>'));
    return;
  }
  if (details.prompt.name === 'consent') {
    const grantId = await grantEverythingAsked(details);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method !== 'POST') {
    send(res, 200, loginForm(uid));
    return;
  }
  const form = await readForm(req);
  const login = form.get('login') ?? '';
  const account = accounts.get(login);
  if (!passwordMatches(account, form.get('password'))) {
    send(res, 200, loginForm(uid, { login, error: 'Wrong login or password.' }));
    return;
  }
  const result = { login: { accountId: account.id, ...(account.amr ? { amr: account.amr } : {}) } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(new URL(req.url, issuer).pathname);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1]).catch((error) => {
    console.error(error);
    if (!res.headersSent) send(res, 400, page('Sign-in failed', `<p>${escape(error.message)}</p>`));
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
