/** A token is good only for a user this server has, even when its signature checks out. */
import { api, login, refusedUpgrade, startTestServer } from './support/server';

it('refuses, with 401, a well-signed token of a user the current store does not have', async () => {
  const secret = 'shared-secret-of-both-stores';
  const first = await startTestServer({ tokenSecret: secret });
  const { token } = await login(first.url, 'device-of-someone');
  await first.stop();

  // Same secret, a new data folder: the token verifies, but its user is not here.
  const second = await startTestServer({ tokenSecret: secret });
  try {
    const refusal = await refusedUpgrade(second.wsUrl, { authorization: `Bearer ${token}` });
    expect(refusal.status).toBe(401);
    expect(refusal.body).toMatchObject({
      error: { code: 'unauthorized', message: expect.stringContaining('log in again') },
    });
    const users = await api(second.url, 'GET', '/api/users', { token });
    expect(users.status).toBe(401);
    // Logging in again on this store works as usual.
    const again = await login(second.url, 'device-of-someone');
    expect((await api(second.url, 'GET', '/api/users', { token: again.token })).status).toBe(200);
  } finally {
    await second.stop();
  }
});
