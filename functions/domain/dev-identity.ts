// The local development identity: the issuer the dev token issuer signs as and
// the email its tokens carry by default. Here, not in the adapter, so config
// and the composition root can name them without loading the issuer's keys.
export const DEV_ISSUER = 'https://dev-issuer.provenance.local';
export const DEV_DEFAULT_EMAIL = 'builder@dev.provenance.local';
