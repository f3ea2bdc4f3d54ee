// A real OpenID provider for the single sign-on tests: the certified `oidc-provider`
// package (a devDependency), started by tests/people/test_oidc.py on 127.0.0.1.
//
// Environment: OIDC_PORT (the port to listen on), OIDC_REDIRECT_URI (the client's
// redirect URI), OIDC_CLIENT_SECRET, OIDC_ACCOUNTS (JSON: login -> claims). Its
// development sign-in page accepts any password for a login listed in OIDC_ACCOUNTS.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'lentera',
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // PKCE for every client, also confidential ones.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'nip'],
  },
  cookies: { keys: ['lentera-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});
