/** A token is good only for a user this server has, even when its signature checks out. */
import { useOwnServers } from './support/fixture';
import { api, login, refusedUpgrade } from './support/server';

const ownServer = useOwnServers();

it('refuses, with 401, a well-signed token of a user the current store does not have', async () => {
  const secret = 'shared-secret-of-both-stores';
  const first = await ownServer({ tokenSecret: secret });
  const { token } = await login(first.url, 'device-of-someone');
  await first.stop();

  // Same secret, a new data folder: the token verifies, but its user is not here.
  const second = await ownServer({ tokenSecret: secret });
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
});
