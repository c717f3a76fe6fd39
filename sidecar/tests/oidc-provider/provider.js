// The OpenID provider the sidecar's OIDC tests sign in through: panva's oidc-provider
// (OpenID Certified), on 127.0.0.1, with its development login form (any password).
//
// Environment:
//   PORT             the port to listen on; 0 (the default) picks one
//   CLIENTS          JSON list of oidc-provider client metadata (client_id, client_secret,
//                    redirect_uris, post_logout_redirect_uris, id_token_signed_response_alg)
//   KEY_GENERATION   names the signing keys (`rsa-1`, `ec-1`): start again with another
//                    value to rotate the keys
//
// Prints `listening on http://127.0.0.1:PORT` once it answers.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const generation = process.env.KEY_GENERATION || '1';

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid: `${type}-${generation}`, alg, use: 'sig' };
}

// The test users. `userinfo_only` claims are left out of the ID token, so the relying
// party has to ask the userinfo endpoint for them.
const many = (prefix, count) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
const USERS = {
  alice: { email: 'alice@acme.test', email_verified: true, given_name: 'Alice', family_name: 'Liddell', groups: ['support', 'staff'] },
  bob: { email: 'bob@acme.test', email_verified: false, given_name: 'Bob', family_name: 'Unverified', groups: ['support'] },
  carol: { email: 'carol@other.test', email_verified: true, given_name: 'Carol', family_name: 'Outsider', groups: ['support'] },
  dave: { email: 'dave@acme.test', email_verified: true, given_name: 'Dave', family_name: 'Sales', groups: ['sales'] },
  erin: {
    email: 'erin@acme.test', email_verified: true, groups: ['support'],
    userinfo_only: { given_name: 'Erin', family_name: 'Userinfo' },
  },
  huge: {
    email: 'huge@acme.test', email_verified: true, given_name: 'Huge', family_name: 'Claims',
    groups: ['support', ...many('a-long-group-name-from-the-directory', 3000)],
    picture: `https://img.acme.test/${'x'.repeat(20000)}`,
  },
};

async function findAccount(ctx, id) {
  const user = USERS[id];
  if (!user) return undefined;
  return {
    accountId: id,
    async claims(use) {
      const { userinfo_only: extra, ...claims } = user;
      return { sub: id, ...claims, ...(use === 'userinfo' ? extra : {}) };
    },
  };
}

const clients = JSON.parse(process.env.CLIENTS || '[]');

const server = createServer();
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    findAccount,
    jwks: {
      keys: [
        signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
        signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
      ],
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'picture'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
    // Every claim of the granted scopes goes into the ID token too (userinfo_only aside).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    // First-party clients: consent is taken as given, so a sign-in is the login form only.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
      await grant.save();
      return grant;
    },
    cookies: { keys: ['portal-sso-test-provider-cookie-key'] },
    ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(`listening on ${issuer}`);
});
