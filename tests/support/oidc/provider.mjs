// A real OpenID provider for the console's sign-in tests: panva's oidc-provider (npm), with its
// development login and consent pages (any password; the login names an account below).
// Configuration comes as JSON in ESIGN_TEST_OIDC: {port, redirect_uri, post_logout_redirect_uri,
// client_id, client_secret, audience, accounts: {login: {esign_role, institution_id?, name?}}}.
// RP-initiated logout is on (oidc-provider's default). Access tokens are JWTs for the resource
// "urn:esign" with the audience and the claims the esign APIs read.
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.ESIGN_TEST_OIDC);
const issuer = `http://127.0.0.1:${config.port}`;
const accounts = config.accounts;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: [config.redirect_uri],
    post_logout_redirect_uris: [config.post_logout_redirect_uri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'esign'],
  claims: { openid: ['sub'], profile: ['name'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, name: account.name }; } };
  },
  async extraTokenClaims(ctx, token) {
    const account = accounts[token.accountId];
    if (!account) return undefined;
    const claims = { esign_role: account.esign_role };
    if (account.institution_id) claims.institution_id = account.institution_id;
    if (account.name) claims.name = account.name;
    return claims;
  },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => 'urn:esign',
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'esign',
        audience: config.audience,
        accessTokenFormat: 'jwt',
        accessTokenTTL: config.access_token_ttl || 3600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.proxy = true;
provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
